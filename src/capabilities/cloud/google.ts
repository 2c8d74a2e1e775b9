/**
 * OAuth for Vertex (`google-auth-library`): a service-account or other credentials JSON file,
 * or the application-default credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file,
 * the metadata server). The library caches the access token and refreshes it before it
 * expires; the proxy asks it for a token on every call.
 */
import { GoogleAuth } from 'google-auth-library';

const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

export class VertexTokens {
  private auth: GoogleAuth;
  private client: ReturnType<GoogleAuth['getClient']> | null = null;

  constructor(private readonly keyFile?: string) {
    this.auth = this.make();
  }

  private make(): GoogleAuth {
    return new GoogleAuth({ scopes: [SCOPE], ...(this.keyFile ? { keyFile: this.keyFile } : {}) });
  }

  /** Drops the cached client and its token: the next call fetches a new one (the platform refused it). */
  invalidate(): void {
    this.auth = this.make();
    this.client = null;
  }

  /** A current access token (cached by the library until close to its expiry). */
  async token(): Promise<string> {
    this.client ??= this.auth.getClient();
    const client = await this.client.catch((err: unknown) => {
      this.client = null;
      throw err;
    });
    const { token } = await client.getAccessToken();
    if (!token) throw new Error('the Google credentials gave no access token');
    return token;
  }
}
