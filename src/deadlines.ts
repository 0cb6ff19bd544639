// Microsoft's dates that decide how long this toolkit is needed (see README "Deadlines").
export const EWS_SWITCH_OFF_STARTS = '2026-10-01';
export const EWS_FULLY_DISABLED = '2027-04-01';
/** End of support for Dynamics 365 CE v9.x on-premises with Exchange Online. */
export const SUPPORT_ENDS = '2027-04-01';

export function daysUntil(isoDate: string, now: Date): number {
  return Math.ceil((Date.parse(isoDate + 'T00:00:00Z') - now.getTime()) / 86_400_000);
}

export function supportDeadlineWarning(now: Date): string {
  const days = daysUntil(SUPPORT_ENDS, now);
  return days > 0
    ? `Microsoft ends support for D365 v9 on-premises with Exchange Online on ${SUPPORT_ENDS} (${days} days left), and EWS in Exchange Online is being switched off (from ${EWS_SWITCH_OFF_STARTS}, fully on ${EWS_FULLY_DISABLED}): plan the move to Dynamics 365 online or Exchange Server on-premises.`
    : `Support for D365 v9 on-premises with Exchange Online ended on ${SUPPORT_ENDS}, and EWS in Exchange Online is switched off: server-side sync with Exchange Online can no longer work.`;
}
