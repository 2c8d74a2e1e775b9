/** Gemini contents: `model` turns are the model's; `user`, `function` or no role, the client's. */
import type { Speaker } from './live-zone.js';

export const geminiSpeakerOf = (role: string | null | undefined): Speaker => (role === 'model' ? 'model' : 'client');
