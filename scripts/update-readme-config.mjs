// Rewrites the configuration table in README.md from the field declarations (npm run docs:config).
import { readFileSync, writeFileSync } from 'node:fs';
import { configTableMarkdown } from '../dist/config/index.js';

const START = '<!-- config-table:start -->';
const END = '<!-- config-table:end -->';
const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a === -1 || b === -1) throw new Error('README.md lacks the config-table markers');
writeFileSync(path, `${readme.slice(0, a + START.length)}\n${configTableMarkdown()}\n${readme.slice(b)}`);
console.log('README.md configuration table updated');
