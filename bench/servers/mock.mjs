// The mock upstream as a standalone process (recording off).
import { MockUpstream } from '../../dist/mock/upstream.js';

const mock = new MockUpstream({ record: false, port: Number(process.env.PORT ?? 0) });
const url = await mock.start();
console.log(`mock upstream listening on ${url}`);
process.on('SIGTERM', () => mock.close().then(() => process.exit(0)));
