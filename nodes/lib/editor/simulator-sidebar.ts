/*
 * The "openOBD simulator" sidebar tab: shown while an account uses the built-in simulator. Per simulated
 * ticket a card with what the person at that car would know (connected, ignition on or off, the session)
 * and the sections that parts of the package add (window.OpenObdSidebar.addSection): the technician view
 * (this file: the control on the car's screen as a small dialog, answered by clicking) and the ticket
 * dashboard. The runtime pushes the view over Node-RED's comms (topic openobd/simulator, as the debug
 * node feeds its sidebar) and acts through admin routes (nodes/lib/simulator-sidebar.ts).
 */
/** A control on a simulated car's screen, as the runtime sends it (simulator/technician.ts, ScreenControl). */
interface SimControl {
  seq: number;
  type: 'label' | 'continue' | 'yesno' | 'options' | 'freetext' | 'number';
  target: 'mechanic' | 'operator';
  label: string;
  options?: string[];
  minimum?: number;
  maximum?: number;
  minimalDisplayTimeS?: number;
  image?: string;
  translations?: Array<{ label: string; translations?: Array<{ language?: string; label: string }> }>;
  shownAt: string;
  answer?: { value: boolean | number | string | null; option?: string; by: 'technician' | 'script' | 'shown' };
  ended?: 'replaced' | 'closed';
}

/** One simulated car of the view (TechnicianCar), with what the sidebar parts add (the dashboard's runs). */
interface SimCar {
  ticketId: string;
  connectorId: string;
  connected: boolean;
  ignitionOn: boolean;
  session: { id: string; state: string } | null;
  control: SimControl | null;
  history: SimControl[];
  [part: string]: unknown;
}

/** What the runtime publishes on openobd/simulator (nodes/lib/simulator-sidebar.ts, SidebarView). */
interface SimView {
  running: boolean;
  mode?: 'script' | 'interactive';
  cars?: SimCar[];
  [part: string]: unknown;
}

/** A section of every car's card. */
interface SimSection {
  id: string;
  order?: number;
  /** A catalog key. */
  title?: string;
  render(car: SimCar, $section: JQuery, view: SimView | null): void;
}

interface Window {
  OpenObdSidebar: {
    addSection(section: SimSection): void;
    view(): SimView | null;
    post(url: string, body: unknown, done?: (err: string | null, data?: unknown) => void): void;
    translated(control: SimControl, label: string): string;
    show(): void;
  };
}

(function () {
  const TAB = 'openobd-simulator';
  let sections: SimSection[] = [];
  let view: SimView | null = null;
  let $content: JQuery | null = null;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;

  function t(key: string, subs?: RedSubs) {
    return OpenObdEditor.t(key, subs);
  }

  /** openOBD's session state in the editor's language ("aktiv"), the state itself if unknown. */
  function stateWords(state: string) {
    const key = 'openobd.sidebar.states.' + state;
    const words = t(key);
    return words && words !== key ? words : state;
  }

  /** Whether the editor's flows hold an account on the built-in simulator (deployed or not). */
  function hasSimulatorAccount() {
    let found = false;
    RED.nodes.eachConfig(function (n) {
      if (n.type === 'openobd-account' && (n.mode || 'simulator') === 'simulator') {
        found = true;
      }
    });
    return found;
  }

  /** POSTs JSON to an admin route of this package (relative URL); errors are shown as a notification. */
  function post(url: string, body: unknown, done?: (err: string | null, data?: unknown) => void) {
    $.ajax(url, { method: 'POST', contentType: 'application/json', data: JSON.stringify(body), dataType: 'json' })
      .done(function (data: unknown) {
        if (done) {
          done(null, data);
        }
      })
      .fail(function (xhr: JQuery.jqXHR<unknown>) {
        const answer = OpenObdEditor.failureReason(xhr);
        RED.notify(t('openobd.sidebar.failed', { reason: answer }), 'error');
        if (done) {
          done(answer);
        }
      });
  }

  /** The text of a control in the editor's language when a translation exists, else as written. */
  function translated(control: SimControl, label: string): string {
    const lang = String((RED.i18n && RED.i18n.lang && RED.i18n.lang()) || '').toLowerCase();
    let found: string | null = null;
    (control.translations || []).forEach(function (entry) {
      if (entry.label !== label) {
        return;
      }
      (entry.translations || []).forEach(function (tr) {
        const l = String(tr.language || '')
          .toLowerCase()
          .replace('_', '-');
        if (!found && (l === lang || lang.split('-')[0] === l)) {
          found = tr.label;
        }
      });
    });
    return found || label;
  }

  function answerText(control: SimControl): string {
    const a = control.answer;
    if (!a) {
      return '';
    }
    if (control.type === 'yesno') {
      return a.value ? t('openobd.sidebar.yes') : t('openobd.sidebar.no');
    }
    if (control.type === 'options') {
      return a.option !== undefined ? a.option : String(a.value);
    }
    if (control.type === 'continue') {
      return t('openobd.sidebar.continued');
    }
    if (control.type === 'label') {
      return t('openobd.sidebar.seen');
    }
    return String(a.value);
  }

  function byText(a: NonNullable<SimControl['answer']>): string {
    return a.by === 'script'
      ? t('openobd.sidebar.byScript')
      : a.by === 'technician'
        ? t('openobd.sidebar.byTechnician')
        : t('openobd.sidebar.byDisplay');
  }

  /** The control on a car's screen, drawn as the small dialog the technician sees, with its buttons and inputs. */
  function renderControl(car: SimCar, $into: JQuery) {
    const c = car.control!;
    const $dialog = $('<div class="openobd-sim-dialog"></div>').attr('data-seq', c.seq).attr('data-type', c.type).appendTo($into);
    $('<div class="openobd-sim-dialog-target"></div>')
      .text(c.target === 'operator' ? t('openobd.sidebar.forOperator') : t('openobd.sidebar.forMechanic'))
      .appendTo($dialog);
    if (c.image && /^https?:\/\//i.test(c.image)) {
      $('<img class="openobd-sim-dialog-image" alt="">').attr('src', c.image).appendTo($dialog);
    }
    $('<div class="openobd-sim-dialog-text"></div>').text(translated(c, c.label)).appendTo($dialog);
    const $actions = $('<div class="openobd-sim-dialog-actions"></div>').appendTo($dialog);
    function send(value: unknown) {
      $actions.find('button, input').prop('disabled', true);
      post('openobd/simulator/answer', { ticketId: car.ticketId, seq: c.seq, value: value }, function (err) {
        if (err) {
          $actions.find('button, input').prop('disabled', false);
        }
      });
    }
    function button(label: string, value: unknown, cls?: string) {
      return $('<button type="button" class="red-ui-button openobd-sim-answer"></button>')
        .addClass(cls || '')
        .text(label)
        .attr('data-value', JSON.stringify(value))
        .on('click', function (e) {
          e.preventDefault();
          send(value);
        })
        .appendTo($actions);
    }
    if (c.answer) {
      $('<div class="openobd-sim-answered"></div>')
        .text(t('openobd.sidebar.answered', { answer: answerText(c), by: byText(c.answer) }))
        .appendTo($actions);
      return;
    }
    if (view && view.mode === 'script' && c.type !== 'label') {
      $('<div class="openobd-sim-note"></div>').text(t('openobd.sidebar.scriptWillAnswer')).appendTo($actions);
      return;
    }
    switch (c.type) {
      case 'label':
        $('<div class="openobd-sim-note"></div>')
          .text(c.minimalDisplayTimeS ? t('openobd.sidebar.labelFor', { seconds: c.minimalDisplayTimeS }) : t('openobd.sidebar.labelShown'))
          .appendTo($actions);
        break;
      case 'continue':
        button(t('openobd.sidebar.continue'), null, 'primary');
        break;
      case 'yesno':
        button(t('openobd.sidebar.yes'), true, 'primary');
        button(t('openobd.sidebar.no'), false);
        break;
      case 'options':
        (c.options || []).forEach(function (o, i) {
          button(translated(c, o), i, 'openobd-sim-option');
        });
        break;
      case 'freetext': {
        const $text = $('<input type="text" class="openobd-sim-input">')
          .attr('placeholder', t('openobd.sidebar.typeAnswer'))
          .appendTo($actions);
        button(t('openobd.sidebar.send'), null, 'primary openobd-sim-send')
          .off('click')
          .on('click', function (e) {
            e.preventDefault();
            send(String($text.val()));
          });
        $text.on('keydown', function (e) {
          if (e.key === 'Enter') {
            e.preventDefault();
            send(String($text.val()));
          }
        });
        break;
      }
      case 'number': {
        const $number = $('<input type="number" step="1" class="openobd-sim-input openobd-sim-number">')
          .attr({ min: c.minimum, max: c.maximum, placeholder: c.minimum + ' \u2013 ' + c.maximum })
          .appendTo($actions);
        const submit = function () {
          const raw = String($number.val()).trim();
          const n = Number(raw);
          if (!/^\d+$/.test(raw) || n < (c.minimum as number) || n > (c.maximum as number)) {
            RED.notify(t('openobd.sidebar.numberRange', { min: c.minimum, max: c.maximum }), 'warning');
            return;
          }
          send(n);
        };
        button(t('openobd.sidebar.send'), null, 'primary openobd-sim-send')
          .off('click')
          .on('click', function (e) {
            e.preventDefault();
            submit();
          });
        $number.on('keydown', function (e) {
          if (e.key === 'Enter') {
            e.preventDefault();
            submit();
          }
        });
        break;
      }
    }
  }

  function renderHistory(car: SimCar, $into: JQuery) {
    if (!car.history || !car.history.length) {
      return;
    }
    const $list = $('<ul class="openobd-sim-history"></ul>').appendTo($into);
    car.history.forEach(function (c) {
      const what = c.answer
        ? t('openobd.sidebar.historyAnswered', { answer: answerText(c), by: byText(c.answer) })
        : c.ended === 'replaced'
          ? t('openobd.sidebar.historyReplaced')
          : t('openobd.sidebar.historyClosed');
      $('<li></li>')
        .text('\u201c' + c.label + '\u201d \u2192 ' + what)
        .attr('title', c.shownAt)
        .appendTo($list);
    });
  }

  /** The technician view of one car: its state (switchable ignition) and its screen. */
  const technicianSection: SimSection = {
    id: 'technician',
    order: 10,
    title: 'openobd.sidebar.technician',
    render: function (car, $section) {
      const $state = $('<div class="openobd-sim-state"></div>').appendTo($section);
      $('<span class="openobd-sim-connected"></span>')
        .text(car.connected ? t('openobd.sidebar.connected') : t('openobd.sidebar.disconnected'))
        .toggleClass('openobd-sim-off', !car.connected)
        .appendTo($state);
      $('<span class="openobd-sim-ignition"></span>')
        .text(car.ignitionOn ? t('openobd.sidebar.ignitionOn') : t('openobd.sidebar.ignitionOff'))
        .toggleClass('openobd-sim-off', !car.ignitionOn)
        .appendTo($state);
      $('<button type="button" class="red-ui-button red-ui-button-small openobd-sim-ignition-toggle"></button>')
        .text(car.ignitionOn ? t('openobd.sidebar.switchOff') : t('openobd.sidebar.switchOn'))
        .on('click', function (e) {
          e.preventDefault();
          post('openobd/simulator/ignition', { ticketId: car.ticketId, on: !car.ignitionOn });
        })
        .appendTo($state);
      const $screen = $('<div class="openobd-sim-screen"></div>').appendTo($section);
      if (car.control) {
        renderControl(car, $screen);
      } else {
        $('<div class="openobd-sim-empty"></div>').text(t('openobd.sidebar.nothingShown')).appendTo($screen);
      }
      renderHistory(car, $section);
    },
  };

  function render() {
    if (!$content) {
      return;
    }
    // Keep what is being typed in an input across a redraw of the same control.
    const typing: Record<string, { seq: string | undefined; value: unknown; focus: boolean }> = {};
    $content.find('.openobd-sim-card').each(function () {
      const $i = $(this).find('.openobd-sim-input');
      const seq = $(this).find('.openobd-sim-dialog').attr('data-seq');
      if ($i.length && $i.val()) {
        typing[String($(this).attr('data-ticket'))] = { seq: seq, value: $i.val(), focus: $i.is(':focus') };
      }
    });
    $content.empty();
    const $head = $('<div class="openobd-sim-head"></div>').appendTo($content);
    if (!view || !view.running) {
      $head.text(t('openobd.sidebar.notRunning'));
      return;
    }
    $head.text(view.mode === 'script' ? t('openobd.sidebar.modeScript') : t('openobd.sidebar.modeInteractive'));
    (view.cars || []).forEach(function (car) {
      const $card = $('<div class="openobd-sim-card"></div>').attr('data-ticket', car.ticketId).appendTo($content!);
      const $title = $('<div class="openobd-sim-card-title"></div>').appendTo($card);
      $('<span class="openobd-sim-ticket"></span>')
        .text(t('openobd.sidebar.ticket', { id: car.ticketId }))
        .appendTo($title);
      $('<span class="openobd-sim-session"></span>')
        .text(
          car.session
            ? t('openobd.sidebar.session', { id: String(car.session.id).slice(0, 8), state: stateWords(car.session.state) })
            : t('openobd.sidebar.noSession'),
        )
        .attr('title', car.session ? car.session.id : car.connectorId)
        .appendTo($title);
      sections.forEach(function (section) {
        const $section = $('<div class="openobd-sim-section"></div>').attr('data-section', section.id).appendTo($card);
        if (section.title) {
          $('<div class="openobd-sim-section-title"></div>').text(t(section.title)).appendTo($section);
        }
        try {
          section.render(car, $section, view);
        } catch (err) {
          $section.text(String(err));
        }
      });
      const kept = typing[car.ticketId];
      const $input = $card.find('.openobd-sim-input');
      if (kept && $input.length && $card.find('.openobd-sim-dialog').attr('data-seq') === kept.seq) {
        $input.val(String(kept.value));
        if (kept.focus) {
          $input.trigger('focus');
        }
      }
    });
  }

  function ensureTab() {
    const want = hasSimulatorAccount() || !!(view && view.running);
    const has = RED.sidebar.containsTab(TAB);
    if (want && !has) {
      $content = $('<div class="openobd-sim"></div>');
      RED.sidebar.addTab({
        id: TAB,
        label: t('openobd.sidebar.label'),
        name: t('openobd.sidebar.name'),
        iconClass: 'fa fa-car',
        content: $content,
        enableOnEdit: true,
      });
      render();
    } else if (!want && has) {
      RED.sidebar.removeTab(TAB);
      $content = null;
    }
  }

  function scheduleTabCheck() {
    if (refreshTimer !== undefined) {
      clearTimeout(refreshTimer);
    }
    refreshTimer = setTimeout(ensureTab, 100);
  }

  function load() {
    $.getJSON('openobd/simulator/view').done(function (data: SimView) {
      view = data;
      ensureTab();
      render();
    });
  }

  window.OpenObdSidebar = {
    /** Adds a section to every car's card: { id, order, title (catalog key), render(car, $section, view) }. */
    addSection: function (section) {
      sections = sections.filter(function (s) {
        return s.id !== section.id;
      });
      sections.push(section);
      sections.sort(function (a, b) {
        return (a.order || 0) - (b.order || 0);
      });
      render();
    },
    /** The latest view the runtime sent (null before the first). */
    view: function () {
      return view;
    },
    post: post,
    translated: translated,
    show: function () {
      ensureTab();
      if (RED.sidebar.containsTab(TAB)) {
        RED.sidebar.show(TAB);
      }
    },
  };
  window.OpenObdSidebar.addSection(technicianSection);

  RED.comms.subscribe('openobd/simulator', function (_topic: string, data: SimView) {
    view = data;
    ensureTab();
    render();
  });
  ['flows:loaded', 'nodes:add', 'nodes:remove', 'nodes:change'].forEach(function (e) {
    RED.events.on(e, scheduleTabCheck);
  });
  // The first time an account on the built-in simulator is deployed (by a deploy here, or found deployed
  // when the editor loads, as after npm start) the tab opens, so a newcomer finds the cars and the
  // technician's screen; afterwards the tab stays as the user left it (remembered in the user settings).
  const OPENED = 'openobd-simulator-tab-opened';
  function openOnce() {
    if (RED.settings.get(OPENED) || !hasSimulatorAccount()) {
      return;
    }
    RED.settings.set(OPENED, true);
    ensureTab();
    if (RED.sidebar.containsTab(TAB)) {
      RED.sidebar.show(TAB);
    }
  }
  RED.events.on('deploy', openOnce);
  RED.events.on('flows:loaded', function () {
    setTimeout(openOnce, 0); // after the editor has shown its own default tab
  });
  RED.actions.add('openobd:show-simulator-tab', function () {
    window.OpenObdSidebar.show();
  });
  load();
})();
