/*
 * Tells the editor's user which running sessions an account ended by itself: a deploy or a stop that
 * ended them by the close policy, or a crash of Node-RED whose sessions were interrupted at the next start.
 * The runtime publishes on the comms topic openobd/sessions-ended (nodes/10-openobd-account).
 */
(function () {
  const t = OpenObdEditor.t;

  /** One ended session, as nodes/10-openobd-account publishes it. */
  interface Ended {
    what: string;
    flowName?: string;
  }

  function line(s: Ended) {
    return s.flowName ? t('openobd.sessionsEnded.inFlow', { what: s.what, flow: s.flowName }) : s.what;
  }

  RED.comms.subscribe(
    'openobd/sessions-ended',
    function (_topic: string, data: { sessions?: Ended[]; policy?: string; why?: string } | null) {
      if (!data || !data.sessions || !data.sessions.length) {
        return;
      }
      const how = t(data.policy === 'finish' ? 'openobd.sessionsEnded.finished' : 'openobd.sessionsEnded.interrupted');
      const title = t(data.why === 'crash' ? 'openobd.sessionsEnded.crash' : 'openobd.sessionsEnded.stopped', { how: how });
      const $body = $('<div class="openobd-sessions-ended"></div>');
      $('<p></p>').text(title).appendTo($body);
      const $list = $('<ul></ul>').appendTo($body);
      data.sessions.forEach(function (s) {
        $('<li></li>').text(line(s)).appendTo($list);
      });
      $('<p></p>')
        .text(t(data.why === 'crash' ? 'openobd.sessionsEnded.crashWhy' : 'openobd.sessionsEnded.stoppedWhy'))
        .appendTo($body);
      RED.notify($body, { type: 'warning', timeout: 15000 });
    },
  );
})();
