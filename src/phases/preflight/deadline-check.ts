// Preflight's deadline part: the days left until Microsoft ends support for this scenario, as a
// warning on every run (it needs nothing reachable, so it always runs).
import { daysUntil, SUPPORT_ENDS, supportDeadlineWarning } from '../../deadlines.js';
import type { PreflightCheck } from './check.js';

const STEP = { id: 'deadline.end-of-support', title: `Days left until end of support (${SUPPORT_ENDS})` };

export const deadlineCheck: PreflightCheck = {
  id: 'deadline',
  applies: () => true,
  plan: () => [
    { ...STEP, target: 'Microsoft support lifecycle', action: 'check', before: null, after: { date: SUPPORT_ENDS } },
  ],
  async run(ctx) {
    return {
      results: [
        {
          ...STEP,
          target: 'Microsoft support lifecycle',
          status: 'unchanged',
          before: null,
          after: { date: SUPPORT_ENDS, daysLeft: daysUntil(SUPPORT_ENDS, ctx.now) },
          warnings: [supportDeadlineWarning(ctx.now)],
        },
      ],
    };
  },
};
