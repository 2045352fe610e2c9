import { Body, Controller, Get, Module, Param, Post, Req } from '@nestjs/common';
import { IsString } from 'class-validator';
import { CurrentUser, Roles } from '../../src/shared/auth/auth.decorators.js';
import type { Principal } from '../../src/shared/auth/principal.js';
import { AccessLog, type RequestLike } from '../../src/shared/privacy/access-log.js';
import { PersonVault } from '../../src/shared/privacy/vault.js';
import { makePersonnummer } from '../support/personnummer.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

class RegisterBody {
  @IsString() pin: string;
}

/** Test-only routes using the injected vault and access log the way a feature does. */
@Controller('api/v1/municipalities/:code/privacy-probe')
class PrivacyProbeController {
  constructor(
    private readonly vault: PersonVault,
    private readonly log: AccessLog,
  ) {}

  @Post('persons')
  @Roles('caseworker')
  async register(@Param('code') code: string, @Body() body: RegisterBody): Promise<{ pseudonym: string }> {
    return { pseudonym: await this.vault.registerPerson(code, body.pin) };
  }

  @Get('persons/:pseudonym')
  @Roles('caseworker')
  async read(@Param('code') code: string, @Param('pseudonym') pseudonym: string, @Req() req: RequestLike, @CurrentUser() user: Principal) {
    // The log is written before the data is read and answered: no log, no data.
    await this.log.record({ ...AccessLog.context(req, user, code), caseId: null, pseudonym });
    return { personalIdentityNumber: await this.vault.revealPin(code, pseudonym) };
  }
}

@Module({ controllers: [PrivacyProbeController] })
class PrivacyProbeModule {}

describe('PrivacyModule in the running service (real HTTP, real PostgreSQL)', () => {
  let t: TestApp;
  let cw: string;
  const pin = makePersonnummer('1988-08-08', 808);

  beforeAll(async () => {
    t = await startTestApp({ extraModules: [PrivacyProbeModule], label: 'privacy' });
    cw = await t.token('caseworker', ['2281'], 'cw-anna');
  });
  afterAll(() => t?.close());

  it('injects one PersonVault and one AccessLog, keyed from the configuration', async () => {
    const vault = t.running.app.get(PersonVault);
    expect(vault).toBeInstanceOf(PersonVault);
    expect(t.running.app.get(AccessLog)).toBeInstanceOf(AccessLog);
    expect(vault.pseudonym('2281', pin)).toBe(new PersonVault(t.pool, { masterKey: t.config.masterKey, pseudonymKey: t.config.pseudonymKey }).pseudonym('2281', pin));
  });

  it('logs who read which person, from where and why, in the same request', async () => {
    const reg = await t.http().post('/api/v1/municipalities/2281/privacy-probe/persons').set('authorization', `Bearer ${cw}`).send({ pin });
    expect(reg.status).toBe(201);
    const { pseudonym } = reg.body as { pseudonym: string };
    const read = await t.http()
      .get(`/api/v1/municipalities/2281/privacy-probe/persons/${pseudonym}`)
      .set('authorization', `Bearer ${cw}`)
      .set('x-access-reason', 'Uppföljning inför möte')
      .set('x-request-id', 'probe-1');
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ personalIdentityNumber: pin });
    const { rows } = await t.pool.query('SELECT user_id, roles, pseudonym, endpoint, purpose, request_id FROM access_log');
    expect(rows).toEqual([
      {
        user_id: 'cw-anna',
        roles: ['caseworker'],
        pseudonym,
        endpoint: `GET /api/v1/municipalities/2281/privacy-probe/persons/${pseudonym}`,
        purpose: 'Uppföljning inför möte',
        request_id: 'probe-1',
      },
    ]);
  });

  it('fails the read when the log cannot be written', async () => {
    const pseudonym = t.running.app.get(PersonVault).pseudonym('2281', pin);
    await t.pool.query('ALTER TABLE access_log RENAME TO access_log_away');
    try {
      const read = await t.http().get(`/api/v1/municipalities/2281/privacy-probe/persons/${pseudonym}`).set('authorization', `Bearer ${cw}`);
      expect(read.status).toBe(500);
      expect(JSON.stringify(read.body)).not.toContain(pin);
    } finally {
      await t.pool.query('ALTER TABLE access_log_away RENAME TO access_log');
    }
  });
});
