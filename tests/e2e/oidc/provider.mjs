// A real OpenID Connect provider (panva's oidc-provider) on loopback, for the sign-in tests.
//
//   node tests/e2e/oidc/provider.mjs [PORT]        (or OIDC_PORT; default 9400)
//
// OIDC_REDIRECT_URIS: the app's callback URLs, comma-separated
//   (default http://localhost:8501/oauth2callback,http://127.0.0.1:8501/oauth2callback).
// Client: kaizen-studio / kaizen-test-secret. Its dev login form accepts any password for the
// accounts below (ana, adam, vic, dora): for tests only, never for real users.
import { Provider } from 'oidc-provider';

const port = Number(process.argv[2] || process.env.OIDC_PORT || 9400);
const issuer = `http://127.0.0.1:${port}`;
const redirectUris = (
  process.env.OIDC_REDIRECT_URIS
  || 'http://localhost:8501/oauth2callback,http://127.0.0.1:8501/oauth2callback'
).split(',').map((uri) => uri.trim()).filter(Boolean);

const ACCOUNTS = {
  ana: { name: 'Ana Analyst', email: 'ana@example.test', groups: ['kz-analysts'] },
  adam: { name: 'Adam Admin', email: 'adam@example.test', groups: ['kz-admins', 'kz-analysts'] },
  vic: { name: 'Vic Viewer', email: 'vic@example.test', groups: ['marketing'] },
  dora: { name: 'Dora Disabled', email: 'dora@example.test', groups: ['kz-analysts'] },
};

async function findAccount(_ctx, id) {
  const account = ACCOUNTS[id];
  if (!account) return undefined; // the login form refuses unknown names
  return {
    accountId: id,
    async claims() {
      return {
        sub: id,
        email: account.email,
        email_verified: true,
        name: account.name,
        preferred_username: id,
        groups: account.groups,
      };
    },
  };
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID || 'kaizen-studio',
    client_secret: process.env.OIDC_CLIENT_SECRET || 'kaizen-test-secret',
    redirect_uris: redirectUris,
    // Streamlit's st.logout sends the user back to its /oauth2callback after the provider's
    // sign-out page.
    post_logout_redirect_uris: redirectUris,
    response_types: ['code'],
    grant_types: ['authorization_code'],
  }],
  findAccount,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  // Streamlit (Authlib) reads the user from the ID token only, so the claims the scopes ask
  // for go into the ID token, not only to the userinfo endpoint.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  // Its session and interaction cookies are signed with this key (a test value, not a secret).
  cookies: { keys: ['kaizen-test-provider-cookie-key'] },
});

// Plain http on loopback: no TLS-terminating proxy in front, so `provider.proxy` stays off.
provider.on('server_error', (_ctx, error) => console.error('server_error', error));

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}/.well-known/openid-configuration`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
