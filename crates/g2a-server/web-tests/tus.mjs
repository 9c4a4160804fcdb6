// Uploads a recording with tus-js-client, the tus project's own client (as
// a recorder written by someone else would), to the service's tus endpoint:
// G2A_URL (maybe a proxy that cuts connections), G2A_TOKEN the recorder's
// token, G2A_FILE the recording. It retries after every failure, as a
// resumable client does: HEAD for the server's offset, then PATCH from
// there. Prints the failures it came through and the upload's URL, then
// "ok".
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import * as tus from 'tus-js-client';

const file = process.env.G2A_FILE;
const data = readFileSync(file);
let failures = 0;

const url = await new Promise((resolve, reject) => {
  const upload = new tus.Upload(data, {
    endpoint: `${process.env.G2A_URL}/api/v1/uploads`,
    headers: { Authorization: `Bearer ${process.env.G2A_TOKEN}` },
    metadata: { filename: basename(file) },
    chunkSize: 64 * 1024,
    // Enough retries for every cut the proxy makes, 20 ms apart.
    retryDelays: new Array(200).fill(20),
    onShouldRetry: (err) => {
      failures += 1;
      const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
      // Network errors and server errors are retried; a refusal is final.
      return status === 0 || status >= 500 || status === 409 || status === 423;
    },
    onError: reject,
    onSuccess: () => resolve(upload.url),
  });
  upload.start();
});

console.log(`failures ${failures}`);
console.log(`url ${url}`);
console.log('ok');
