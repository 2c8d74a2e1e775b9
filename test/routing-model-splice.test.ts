/** The model link's splice: only the top-level `model` value's bytes change, whatever surrounds it. */
import { describe, expect, it } from 'vitest';
import { modelSpan, spliceModel } from '../src/capabilities/routing/model-splice.js';

const splice = (body: string, model: string) => spliceModel(Buffer.from(body), model)?.toString('utf8') ?? null;

describe('spliceModel', () => {
  it('replaces the top-level model only, keeping every other byte', () => {
    const body = '{ "messages" : [{"role":"user","content":"{\\"model\\":\\"x\\"}","model":"inner"}],\n\t"model":"fast" , "n":1 }';
    expect(splice(body, 'qwen3')).toBe(body.replace('"model":"fast"', '"model":"qwen3"'));
  });

  it('handles escapes, unicode and a model after nested objects', () => {
    const body = '{"metadata":{"a":[1,{"b":"]}"}]},"model":"caf\\u00e9-\\"x\\"","stream":true}';
    expect(splice(body, 'ollama/qwen2.5:7b')).toBe('{"metadata":{"a":[1,{"b":"]}"}]},"model":"ollama/qwen2.5:7b","stream":true}');
    expect(splice('{"model":"ünï"}', 'ü"2')).toBe('{"model":"ü\\"2"}');
  });

  it('null when nothing changes or there is no string model', () => {
    expect(splice('{"model":"same"}', 'same')).toBeNull();
    expect(splice('{"messages":[]}', 'm')).toBeNull();
    expect(splice('{"model":42}', 'm')).toBeNull();
    expect(splice('[{"model":"x"}]', 'm')).toBeNull();
    expect(splice('{"model":"x"', 'm')).toBeNull();
  });

  it('the last of duplicate keys wins, as JSON.parse reads it', () => {
    const body = '{"model":"a","model":"b"}';
    expect(modelSpan(Buffer.from(body))).toEqual({ start: 21, end: 24 });
    expect(JSON.parse(splice(body, 'c')!).model).toBe('c');
  });
});
