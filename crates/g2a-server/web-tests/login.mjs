// Logs in over the API; returns the cookie and CSRF token of the login.
export async function login(url, name, password) {
  const r = await fetch(url + '/api/v1/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: url },
    body: JSON.stringify({ name, password }),
  });
  if (!r.ok) throw new Error('login: HTTP ' + r.status + ' ' + (await r.text()));
  const cookie = r.headers.get('set-cookie').split(';')[0];
  return { cookie, csrf: (await r.json()).csrf };
}
