import { Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '../../src/shared/event-store/event-store.port.js';
import { ProjectionsModule } from '../../src/shared/projections/projections.module.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { eventCountProjection } from './event-count.projection.js';
import { event, eventually } from './projection-test-kit.js';

describe('Projections administration over HTTP: status, rebuild, readiness, metrics', () => {
  let t: TestApp;
  let admin: string;
  let store: EventStore;
  beforeAll(async () => {
    const fragile = eventCountProjection({
      name: 'fragile',
      check: (e) => {
        if (e.data.poison === true) throw new Error('fragile cannot take poison');
      },
    });
    @Module({ imports: [ProjectionsModule.forFeature([eventCountProjection(), fragile])] })
    class TestProjections {}
    t = await startTestApp({ label: 'proj-admin', extraModules: [TestProjections] });
    admin = await t.token('admin');
    store = t.running.app.get<EventStore>(EVENT_STORE);
  });
  afterAll(() => t.close());

  const list = () => t.http().get('/api/v1/admin/projections').set('authorization', `Bearer ${admin}`);

  it('is for admins only', async () => {
    expect((await t.http().get('/api/v1/admin/projections')).status).toBe(401);
    for (const role of ['caseworker', 'process_owner', 'evaluator'] as const) {
      const r = await t.http().get('/api/v1/admin/projections').set('authorization', `Bearer ${await t.token(role)}`);
      expect(r.status).toBe(403);
      const p = await t.http().post('/api/v1/admin/projections/event_counts/rebuild').set('authorization', `Bearer ${await t.token(role)}`);
      expect(p.status).toBe(403);
    }
  });

  it('lists every projection with version, status, position, lag and errors', async () => {
    const r = await store.append('case-1', [event('A'), event('B')], { expectedVersion: 'any', tenant: '2281' });
    const caughtUp = await eventually(async () => {
      const res = await list();
      const item = res.body.items?.find((i: { name: string }) => i.name === 'event_counts');
      return item?.position === r.lastPosition ? res : undefined;
    }, 10_000, 'catch-up');
    expect(caughtUp.status).toBe(200);
    expect(caughtUp.body.headPosition).toBe(r.lastPosition);
    expect(caughtUp.body.items.find((i: { name: string }) => i.name === 'event_counts')).toEqual({
      name: 'event_counts',
      kind: 'async',
      version: 1,
      status: 'running',
      position: r.lastPosition,
      lag: 0,
      lagSeconds: 0,
      eventsPerSecond: expect.any(Number),
      lastError: null,
      schema: 'proj_event_counts_v1',
      liveSince: expect.any(String),
      rebuild: null,
    });
  });

  it('rebuilds on request (202) beside the live build, which it then replaces', async () => {
    const r = await t.http().post('/api/v1/admin/projections/event_counts/rebuild').set('authorization', `Bearer ${admin}`);
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ name: 'event_counts', version: 1, schema: 'proj_event_counts_v1_r1', status: 'building' });
    await eventually(async () => (await list()).body.items.find((i: { name: string }) => i.name === 'event_counts').schema === 'proj_event_counts_v1_r1', 10_000, 'switch');
    const unknown = await t.http().post('/api/v1/admin/projections/nothing_here/rebuild').set('authorization', `Bearer ${admin}`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toMatch(/problem\+json/);
  });

  it('documents both endpoints in the OpenAPI description', async () => {
    const doc = (await t.http().get('/api/docs-json')).body;
    expect(doc.paths['/api/v1/admin/projections'].get.responses['200']).toBeDefined();
    expect(doc.paths['/api/v1/admin/projections/{name}/rebuild'].post.responses['202']).toBeDefined();
    expect(Object.keys(doc.components.schemas.ProjectionDto.properties)).toEqual(
      expect.arrayContaining(['name', 'version', 'status', 'position', 'lag', 'lagSeconds', 'lastError', 'rebuild']),
    );
    expect(Object.keys(doc.components.schemas.ProjectionRebuildDto.properties)).toEqual(expect.arrayContaining(['eventsDone', 'eventsPerSecond', 'etaSeconds']));
  });

  it('shows a failing projection in the list and in /health/ready, and reports lag in /metrics', async () => {
    expect((await t.http().get('/health/ready')).status).toBe(200);
    const bad = await store.append('case-2', [event('C', { poison: true })], { expectedVersion: 'any', tenant: '2281' });
    const failing = await eventually(async () => {
      const item = (await list()).body.items.find((i: { name: string }) => i.name === 'fragile');
      return item.status === 'failing' ? item : undefined;
    }, 10_000, 'fragile to fail');
    expect(failing.lastError).toMatchObject({ message: 'fragile cannot take poison', position: bad.lastPosition, failures: expect.any(Number) });
    expect(failing.lag).toBe(1);
    const ready = await t.http().get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.headers['retry-after']).toBeDefined();
    expect(ready.body.checks.projections).toMatchObject({ status: 'fail', detail: expect.stringContaining(`fragile: stopped at position ${bad.lastPosition}`) });
    // The other projection went on.
    await eventually(async () => (await list()).body.items.find((i: { name: string }) => i.name === 'event_counts').position === bad.lastPosition, 10_000, 'event_counts');

    const metrics = await t.http().get('/metrics');
    expect(metrics.text).toMatch(/vagen_projection_lag_events\{projection="fragile"\} 1/);
    expect(metrics.text).toMatch(/vagen_projection_lag_seconds\{projection="fragile"\} \d/);
    expect(metrics.text).toMatch(/vagen_projection_events_processed_total\{projection="event_counts"\} \d+/);
  });
});
