import pino from 'pino';
import { Lifecycle } from '../../../services/common/lifecycle';

describe('Lifecycle', () => {
  it('runs shutdown steps once, in order, even when one fails', async () => {
    const order: string[] = [];
    const lifecycle = new Lifecycle(pino({ level: 'silent' }))
      .onShutdown('stop intake', () => void order.push('stop intake'))
      .onShutdown('drain', async () => {
        order.push('drain');
        throw new Error('boom');
      })
      .onShutdown('commit', () => void order.push('commit'));
    await Promise.all([lifecycle.shutdown(), lifecycle.shutdown()]);
    expect(order).toEqual(['stop intake', 'drain', 'commit']);
  });
});
