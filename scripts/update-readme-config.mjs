// Rewrites the configuration table in README.md and examples/config.yaml from the field
// declarations (npm run docs:config); tests fail when either is out of date.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { configTableMarkdown, exampleConfigYaml } from '../dist/config/index.js';

const START = '<!-- config-table:start -->';
const END = '<!-- config-table:end -->';
const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a === -1 || b === -1) throw new Error('README.md lacks the config-table markers');
writeFileSync(path, `${readme.slice(0, a + START.length)}\n${configTableMarkdown()}\n${readme.slice(b)}`);
mkdirSync(new URL('../examples/', import.meta.url), { recursive: true });
writeFileSync(new URL('../examples/config.yaml', import.meta.url), exampleConfigYaml());
console.log('README.md configuration table and examples/config.yaml updated');
