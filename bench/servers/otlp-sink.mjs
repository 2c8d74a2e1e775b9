// An OTLP/HTTP collector stand-in for benchmarks: answers every export with `{}` (MODE=ok) or
// never answers (MODE=hang). Prints its URL when ready.
import { createServer } from 'node:http';

const mode = process.env.MODE ?? 'ok';
let exports = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    exports++;
    if (mode === 'hang') return;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});
server.listen(0, '127.0.0.1', () => console.log(`otlp sink (${mode}) listening on http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => {
  console.log(`otlp sink received ${exports} exports`);
  process.exit(0);
});
