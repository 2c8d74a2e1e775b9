// The physical-limit reference: the least a Node proxy can do with node:http + undici —
// read the body, forward it, pipe the response back. No parsing, no accounting.
import { createServer } from 'node:http';
import { Agent } from 'undici';

const upstream = new URL(process.env.UPSTREAM);
const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length', 'te', 'upgrade', 'proxy-authorization', 'accept-encoding']);

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const headers = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!HOP.has(req.rawHeaders[i].toLowerCase())) headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
    }
    try {
      const up = await agent.request({ origin: upstream.origin, path: req.url, method: req.method, headers, body: Buffer.concat(chunks) });
      const out = {};
      for (const [k, v] of Object.entries(up.headers)) if (k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') out[k] = v;
      res.writeHead(up.statusCode, out);
      up.body.pipe(res);
    } catch (err) {
      res.writeHead(502).end(String(err));
    }
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`bare pipe listening on http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
