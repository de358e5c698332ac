import type { Session } from '../../client';

/**
 * Shows the technician of a session that used the screen (asked or showed something) a label saying why
 * the procedure ends, and waits until it is shown, at most `waitMs`: the session's end would otherwise
 * just blank the screen, and the person at the car would never learn why. Never rejects.
 */
export async function tellTechnician(session: Session, text: string, waitMs: number, minimalDisplayTimeS?: number): Promise<boolean> {
  const ui = session.ui;
  // The flow's own nodes may have taken their question down already (they stop before the account).
  if (!ui.isOpen && !ui.waiting && ui.stats.sent === 0) return false;
  const control = { type: 'label' as const, label: text, target: 'mechanic' as const, minimalDisplayTimeS };
  const shown = ui.ask(control, { timeoutMs: waitMs }).then(
    () => true,
    () => false,
  );
  let timer: NodeJS.Timeout | undefined;
  const out = await Promise.race([shown, new Promise<boolean>((r) => (timer = setTimeout(() => r(false), waitMs)))]);
  clearTimeout(timer);
  return out;
}
