import assert from 'node:assert/strict';
import { nodeRedPackage, request, signIn, startNodeRed, unsupportedNode, type NodeRedServer } from '../support/nodered-server';

/*
 * The editor's dropdowns (simulator tickets, live sessions) are fed by admin endpoints. With adminAuth on,
 * they answer only to a signed-in user with read permission, as the rest of the admin API does.
 * A real Node-RED (NR_PKG) with adminAuth; no browser needed.
 */

const nr = nodeRedPackage();
// bcrypt of "openobd-test" (cost 8), as settings.js adminAuth expects.
const HASH = '$2b$08$mxsno6pktee9Yal1c5414.DHCK2JrmxFwOG1DQhUk8kMlIeZj4aWq';

describe(`Node-RED ${nr.version}: the admin endpoints behind the editor dropdowns need a permission`, function () {
  this.timeout(180000);
  let server: NodeRedServer | undefined;

  before(async function () {
    const unsupported = unsupportedNode(nr);
    if (unsupported) throw new Error(unsupported);
    server = await startNodeRed({
      settings: {
        adminAuth: {
          type: 'credentials',
          users: [
            { username: 'reader', password: HASH, permissions: 'read' },
            { username: 'admin', password: HASH, permissions: '*' },
            { username: 'nobody', password: HASH, permissions: [] },
          ],
        },
      },
    });
  });

  after(async function () {
    await server?.stop();
  });

  /** A bearer token with the user's own permissions (scope ''), or undefined when the sign-in is refused. */
  const token = (username: string) => signIn((server as NodeRedServer).url, username, 'openobd-test');

  for (const route of ['openobd/simulator', 'openobd/sessions']) {
    it(`GET ${route}: 401 without a token, 200 with read permission, refused without it`, async function () {
      const url = `${(server as NodeRedServer).url}${route}`;
      assert.equal((await request(url)).status, 401);
      const reader = await token('reader');
      assert.ok(reader, 'the reader signs in');
      const ok = await request(url, { headers: { authorization: `Bearer ${reader}` } });
      assert.equal(ok.status, 200, ok.body);
      const body = ok.json<unknown>();
      if (route === 'openobd/simulator') {
        assert.deepEqual((body as { tickets: string[] }).tickets, ['1001', '1002', '1003', '2001', '2002']);
        assert.ok(!/clientSecret|simulator-secret/.test(ok.body), 'no secret in the answer');
      } else {
        assert.deepEqual(body, []);
      }
      // A user without any permission either cannot sign in or is refused by the endpoint.
      const nobody = await token('nobody');
      if (nobody) {
        const refused = await request(url, { headers: { authorization: `Bearer ${nobody}` } });
        assert.ok(refused.status === 401 || refused.status === 403, `a user without read permission is refused (${refused.status})`);
      }
    });
  }

  for (const route of ['openobd/simulator/answer', 'openobd/simulator/ignition']) {
    it(`POST ${route}: 401 without a token, refused with read permission only, accepted with write permission`, async function () {
      const url = `${(server as NodeRedServer).url}${route}`;
      const body = JSON.stringify({ ticketId: '1001', value: true, on: true });
      const post = (token?: string) =>
        request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body,
        });
      assert.equal((await post()).status, 401);
      const reader = await token('reader');
      const refused = await post(reader);
      assert.ok(refused.status === 401 || refused.status === 403, `a reader cannot act (${refused.status})`);
      // With write permission the route itself answers: nothing deployed, so the simulator does not run (409).
      const admin = await token('admin');
      const answered = await post(admin);
      assert.equal(answered.status, 409, answered.body);
      assert.match(answered.body, /built-in simulator is not running/);
    });
  }
});
