// Microsoft's dates that decide how long this toolkit is needed (see README "Deadlines").
export const EWS_SWITCH_OFF_STARTS = '2026-10-01';
export const EWS_FULLY_DISABLED = '2027-04-01';
/** End of support for Dynamics 365 CE v9.x on-premises with Exchange Online. */
export const SUPPORT_ENDS = '2027-04-01';

import { daysLeft, daysText } from './days.js';

/** Whole days from now until the start of the given UTC date (negative once it has passed). */
export function daysUntil(isoDate: string, now: Date): number {
  return daysLeft(isoDate + 'T00:00:00Z', now);
}

export function supportDeadlineWarning(now: Date): string {
  const left = daysUntil(SUPPORT_ENDS, now);
  return left >= 0
    ? `${daysText(left)} left until ${SUPPORT_ENDS}, when Microsoft ends support for Dynamics 365 v9 on-premises with Exchange Online; EWS in Exchange Online is being switched off (from ${EWS_SWITCH_OFF_STARTS}, fully on ${EWS_FULLY_DISABLED}): plan the move to Dynamics 365 online or Exchange Server on-premises`
    : `support for Dynamics 365 v9 on-premises with Exchange Online ended on ${SUPPORT_ENDS} (${daysText(-left)} ago) and EWS is off in Exchange Online: server-side synchronization with Exchange Online can no longer work`;
}
