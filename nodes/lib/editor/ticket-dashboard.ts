/*
 * The ticket dashboard section of the "openOBD simulator" sidebar tab (nodes/lib/editor/simulator-sidebar.ts):
 * per simulated ticket, the procedures registered on the built-in simulator's function broker with a Run
 * button, as openOBD's ticket dashboard lists a partner's functions, and the last result of each run.
 * The runtime part is nodes/lib/ticket-dashboard.ts.
 */
(function () {
  const t = OpenObdEditor.t;

  /** A run of a procedure from the dashboard (simulator/functions.ts, DashboardRun). */
  interface Run {
    functionId: string;
    state: 'starting' | 'running' | 'finished' | 'failed';
    result?: { result?: string[]; description?: string };
    results?: Record<string, unknown>;
    error?: string;
    endedAt?: string;
  }

  /** A procedure registered on the simulator's function broker (DashboardFunction). */
  interface Procedure {
    id: string;
    name: string;
    version?: string;
    description?: string;
    state: string;
  }

  /** A result value: text as it is; an object or array folded, its JSON shown wrapped when opened. */
  function renderValue(key: string, v: unknown, $into: JQuery) {
    if (v === null || typeof v !== 'object') {
      $into.text(key + ': ' + String(v));
      return;
    }
    const $details = $('<details></details>').appendTo($into);
    const count = Array.isArray(v) ? v.length : Object.keys(v as object).length;
    $('<summary></summary>')
      .text(key + ': ' + t(Array.isArray(v) ? 'openobd.dashboard.items' : 'openobd.dashboard.fields', { count: count }))
      .appendTo($details);
    $('<pre class="openobd-dash-json"></pre>')
      .text(JSON.stringify(v, null, 2))
      .appendTo($details);
  }

  /** A service result in words ("Failure: runtime error"), from the finish node's catalog. */
  function resultWords(r: string) {
    const key = 'openobd.result.' + r;
    const words = t(key);
    return words && words !== key ? words : String(r).replace(/^RESULT_/, '');
  }

  function renderRun(run: Run, $into: JQuery) {
    const $run = $('<div class="openobd-dash-run"></div>').attr('data-state', run.state).appendTo($into);
    if (run.state === 'starting' || run.state === 'running') {
      $run.text(t('openobd.dashboard.running'));
      return;
    }
    if (run.state === 'failed') {
      $run.addClass('openobd-dash-failed').text(t('openobd.dashboard.failed', { reason: run.error || '' }));
      return;
    }
    const result = (run.result && run.result.result) || [];
    const ok =
      result.length > 0 &&
      result.every(function (r) {
        return r === 'RESULT_SUCCESS';
      });
    $run.toggleClass('openobd-dash-failed', !ok);
    let text = result.map(resultWords).join(', ') || t('openobd.dashboard.noResult');
    if (run.result && run.result.description) {
      text += ' \u2014 ' + run.result.description;
    }
    $run.text((ok ? '\u2713 ' : '\u2717 ') + text).attr('title', run.endedAt || '');
    const results = run.results || {};
    const keys = Object.keys(results);
    if (keys.length) {
      const $list = $('<ul class="openobd-dash-results"></ul>').appendTo($into);
      keys.forEach(function (k) {
        renderValue(k, results[k], $('<li></li>').appendTo($list));
      });
    }
  }

  window.OpenObdSidebar.addSection({
    id: 'dashboard',
    order: 20,
    title: 'openobd.dashboard.title',
    render: function (car, $section, view) {
      const functions = ((view && view.functions) || []) as Procedure[];
      if (!functions.length) {
        $('<div class="openobd-sim-empty"></div>').text(t('openobd.dashboard.none')).appendTo($section);
        return;
      }
      functions.forEach(function (f) {
        const $row = $('<div class="openobd-dash-function"></div>').attr('data-function', f.id).appendTo($section);
        const $head = $('<div class="openobd-dash-head"></div>').appendTo($row);
        $('<span class="openobd-dash-name"></span>')
          .text(f.name)
          .attr('title', (f.description || '') + ' (' + f.id + ')')
          .appendTo($head);
        $('<span class="openobd-dash-version"></span>')
          .text(f.version ? 'v' + f.version : '')
          .appendTo($head);
        $('<span class="openobd-dash-state"></span>')
          .text(t('openobd.dashboard.state.' + f.state))
          .attr('data-state', f.state)
          .appendTo($head);
        const busy = !!car.session;
        $('<button type="button" class="red-ui-button red-ui-button-small openobd-dash-run-button"></button>')
          .text(t('openobd.dashboard.run'))
          .prop('disabled', f.state !== 'online' || busy)
          .attr('title', busy ? t('openobd.dashboard.busy') : f.state !== 'online' ? t('openobd.dashboard.notOnline') : '')
          .on('click', function (e) {
            e.preventDefault();
            $(this).prop('disabled', true);
            window.OpenObdSidebar.post('openobd/simulator/run', { ticketId: car.ticketId, functionId: f.id });
          })
          .appendTo($head);
        const run = ((car.runs || []) as Run[]).filter(function (r) {
          return r.functionId === f.id;
        })[0];
        if (run) {
          renderRun(run, $row);
        }
      });
    },
  });
})();
