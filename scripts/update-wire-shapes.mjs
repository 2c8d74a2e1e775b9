// Rewrites docs/wire-shapes.md from the response schemas (npm run docs:wire); a test fails
// when it is out of date.
import { writeFileSync } from 'node:fs';
import { wireShapesMarkdown } from '../dist/compose/wire-shapes.js';

writeFileSync(new URL('../docs/wire-shapes.md', import.meta.url), wireShapesMarkdown());
console.log('docs/wire-shapes.md updated');
