// The BullMQ dashboard at /admin/queues (behind the token when API_TOKEN is set, see auth.ts).
import fp from 'fastify-plugin';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';

export const ADMIN_QUEUES_PATH = '/admin/queues';

export default fp(
  async (app) => {
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(ADMIN_QUEUES_PATH);
    createBullBoard({
      queues: [new BullMQAdapter(app.queues.backfill), new BullMQAdapter(app.queues.reconcile)],
      serverAdapter,
      options: { uiConfig: { boardTitle: 'tally queues' } },
    });
    await app.register(serverAdapter.registerPlugin(), { prefix: ADMIN_QUEUES_PATH });
  },
  { name: 'tally-admin-queues', dependencies: ['tally-queues'] },
);
