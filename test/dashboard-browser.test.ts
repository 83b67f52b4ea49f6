/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELS, type Language } from '../common/i18n/labels.ts';
import { UI_EN, UI_ZH } from '../dashboard/src/i18n/ui-strings.ts';
import type { Trace } from '../dashboard/src/live/trace.ts';
import { startDemoStack, type DemoStack } from './fixtures/dashboard/demo-stack.ts';
import { hasChromium, launchChromium, type HeadlessChromium } from './harness/chromium.ts';
import { waitFor } from './harness/ports.ts';

const ROLE_OF: Record<string, string> = { 'demo-engineer': 'engineer', 'demo-desk': 'service-desk', 'demo-eng-supervisor': 'engineering-supervisor' };

/** Screenshots of the screens, for docs/dashboard.md and for a person to look at. */
const SCREENSHOTS = fileURLToPath(new URL('../test-output/dashboard/', import.meta.url));

const available = hasChromium();

async function readTrace(page: Page): Promise<Trace> {
  return page.evaluate(() => (globalThis as unknown as { __fmTrace: Trace }).__fmTrace);
}

/**
 * Label text of the other language, or a missing-label marker, anywhere on screen outside the
 * estate's own data (`data-content`: names, titles, comments). English must have no Chinese at all.
 */
async function foreignLabels(page: Page, language: Language): Promise<string[]> {
  const other: Language = language === 'en' ? 'zh-CN' : 'en';
  const otherOnly = [...Object.entries(LABELS[other]), ...Object.entries(other === 'en' ? UI_EN : UI_ZH)]
    .map(([, v]) => v.replace(/\{\w+\}/g, '').trim())
    .filter((v) => v.length >= 3 && /[A-Za-z]{3}/.test(v) && !Object.values(LABELS[language]).includes(v));
  return page.evaluate(
    ({ language, otherOnly }) => {
      const found: string[] = [];
      const cjk = /[\u3400-\u9fff\uff00-\uffef]/;
      const check = (text: string, where: Element): void => {
        const t = text.trim();
        if (!t || where.closest('[data-content], script, style')) return;
        if (t.includes('⟦missing⟧')) found.push(t);
        else if (language === 'en' && cjk.test(t)) found.push(t);
        else if (language !== 'en' && otherOnly.some((v) => new RegExp(`(^|[^A-Za-z])${v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z])`).test(t))) found.push(t);
      };
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) {
        const node = walker.currentNode;
        if (node.parentElement) check(node.textContent ?? '', node.parentElement);
      }
      for (const e of document.querySelectorAll('[aria-label], [title], [placeholder]')) {
        for (const a of ['aria-label', 'title', 'placeholder']) check(e.getAttribute(a) ?? '', e);
      }
      return found;
    },
    { language, otherOnly },
  );
}

describe.skipIf(!available)('dashboard in a real browser (demo estate, headless Chromium)', () => {
  let stack: DemoStack;
  let browser: HeadlessChromium;
  let page: Page;
  const errors: string[] = [];
  let fireTicket: number;

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    stack = await startDemoStack();
    browser = await launchChromium();
    page = browser.page;
    page.on('pageerror', (e) => errors.push(e.message));
    // The page runs under the server's Content-Security-Policy: Chromium reports what it refuses.
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) errors.push(m.text());
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
  const go = async (hash: string, ready: string) => {
    await page.evaluate((h) => (location.hash = h), hash);
    await page.waitForSelector(ready);
  };

  it('logs in with a role of the server and shows the three demo buildings, live', async () => {
    const response = await page.goto(stack.server.url);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.fill('input[name=username]', 'demo-engineer');
    await page.fill('input[name=password]', 'wrong-password');
    await page.click('button[type=submit]');
    await page.waitForSelector('.login-error:text("用户名或密码错误")');
    await page.fill('input[name=password]', 'demo-password');
    await page.click('button[type=submit]');
    await page.waitForSelector('.tile[data-condition="normal"]');
    const tiles = await page.$$eval('.tile', (ts) => ts.map((t) => (t as HTMLElement).dataset.building));
    expect(tiles).toEqual(['T1', 'T2', 'OB']);
    expect(await page.getAttribute('.connection', 'data-connection')).toBe('live');
    // Device states keep arriving and are applied in frames.
    const before = (await readTrace(page)).deviceStates;
    await waitFor(async () => (await readTrace(page)).deviceStates > before, 15_000, 'device states applied on the page');
    await shot('wall-zh');
  });

  it('fire alarm: the banner and siren come up in the first frame after alarm:raised, until acknowledged', async () => {
    await stack.estate.scenario('fire-alarm');
    await page.waitForSelector('.banner:not([hidden]) .banner-alarm');
    const alarmId = await page.getAttribute('.banner-alarm', 'data-alarm');
    const t = await readTrace(page);
    const raised = t.entries.find((e) => e.type === 'alarm:raised' && e.id === alarmId);
    const shown = t.entries.find((e) => e.type === 'banner:shown' && e.id === alarmId);
    expect(raised).toBeDefined();
    expect(shown).toBeDefined();
    // Received between frames N-1 and N, shown by frame N: nothing waits for a later frame.
    expect(shown!.frame).toBe(raised!.frame + 1);
    expect(shown!.at).toBeGreaterThanOrEqual(raised!.at);
    expect(await page.evaluate(() => document.body.dataset.siren)).toBe('on');
    const alarm: { announcedAt: number } = await (await fetch(`${stack.server.url}/api/alarms/${alarmId}`, { headers: { authorization: `Bearer ${await token(page)}` } })).json();
    expect(alarm).toMatchObject({ ruleId: 'fire-zone-alarm', device: 'T1-fire', state: 'active-unacknowledged', severity: 'critical' });
    console.log(`fire alarm: announced by the server → banner on screen ${(shown!.at - alarm.announcedAt).toFixed(0)} ms; socket message → banner ${(shown!.at - raised!.at).toFixed(1)} ms`);
    expect(await page.getAttribute('.tile[data-building="T1"]', 'data-condition')).toBe('alarm');
    await shot('fire-banner-zh');

    await page.click('.banner-alarm [data-action="acknowledge"]');
    await page.waitForSelector('.banner', { state: 'hidden' });
    expect(await page.evaluate(() => document.body.dataset.siren)).toBe('off');
    const after = await (await fetch(`${stack.server.url}/api/alarms/${alarmId}`, { headers: { authorization: `Bearer ${await token(page)}` } })).json();
    expect(after).toMatchObject({ state: 'active-acknowledged', acknowledgedBy: 'demo-engineer' });
    await go('#/alarms', `tr[data-alarm="${alarmId}"][data-state="active-acknowledged"]`);
    await shot('alarms-zh');

    // Shelving needs a reason; the list shows the shelf with it, and unshelving ends it.
    await page.click(`tr[data-alarm="${alarmId}"] [data-action="shelve"]`);
    await page.fill('.dialog textarea[name=reason]', 'detector under test by the maintenance contractor');
    await page.click('.dialog [data-action="confirm"]');
    await page.waitForSelector(`tr[data-alarm="${alarmId}"] .flag-shelved`);
    expect(await page.textContent(`tr[data-alarm="${alarmId}"] .flag-shelved`)).toContain('detector under test');
    await page.click(`tr[data-alarm="${alarmId}"] [data-action="unshelve"]`);
    await page.waitForSelector(`tr[data-alarm="${alarmId}"] [data-action="shelve"]`);
  });

  /** Logs out on the screen and in again as another user of the demo estate. */
  const switchUser = async (username: string) => {
    await page.click('.top .logout');
    await page.waitForSelector('.login');
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', 'demo-password');
    await page.click('button[type=submit]');
    await page.waitForSelector(`.top .user:has-text("${LABELS.en[`role.${ROLE_OF[username]}` as keyof typeof LABELS.en]}"), .top .user:has-text("${LABELS['zh-CN'][`role.${ROLE_OF[username]}` as keyof typeof LABELS.en]}")`);
  };
  /** Takes an action on the open work order through its dialog, and waits until the screen shows the result. */
  const act = async (action: string, state: string, fill?: () => Promise<unknown>) => {
    await page.click(`.wo-actions [data-action="${action}"]`);
    await fill?.();
    await page.fill('.dialog textarea[name=comment]', `${action} from the duty room`);
    await page.click('.dialog [data-action="confirm"]');
    await page.waitForSelector('.dialog', { state: 'detached' });
    await page.waitForFunction(
      ({ action, state, n }) =>
        document.querySelector('[data-ticket-state]')?.getAttribute('data-ticket-state') === state && document.querySelectorAll(`.timeline li[data-action="${action}"]`).length >= n,
      { action, state, n: 1 },
    );
  };

  it('opens the work order the fire alarm raised; the engineer repairs it, the engineering supervisor checks, verifies and closes it', async () => {
    const list = await (await fetch(`${stack.server.url}/api/tickets?deviceId=T1-fire`, { headers: { authorization: `Bearer ${await token(page)}` } })).json();
    expect(list.items).toHaveLength(1);
    fireTicket = list.items[0].id;
    expect(list.items[0]).toMatchObject({ followUp: 'verification', category: 'fire-safety' });
    await go('#/work-orders', `.column[data-state="open"] .wo-card[data-ticket="${fireTicket}"]`);
    const card = (await page.$(`.wo-card[data-ticket="${fireTicket}"]`))!;
    await shot('work-orders-zh');
    await card.click();
    await page.waitForSelector(`.detail-view[data-ticket="${fireTicket}"] [data-ticket-state="open"]`);
    await act('acknowledge', 'acknowledged');
    await act('assign', 'acknowledged');
    await act('start', 'in_progress');
    await act('resolve', 'resolved', () => page.fill('.dialog input[name=item]', 'detector cleaned'));
    // The repairer may not check his own repair: no button for it.
    expect(await page.$('.wo-actions [data-action="quality-check"]')).toBeNull();

    await switchUser('demo-eng-supervisor');
    await go(`#/work-orders/${fireTicket}`, `.detail-view[data-ticket="${fireTicket}"] [data-ticket-state="resolved"]`);
    await act('quality-check', 'quality_checked', () => page.selectOption('.dialog select[name=result]', 'pass'));
    expect(await page.$('.wo-actions [data-action="callback"]')).toBeNull();
    await act('verify', 'verified', () => page.selectOption('.dialog select[name=result]', 'ok'));
    await act('close', 'closed');
    await act('reopen', 'reopened');
    const actions = await page.$$eval('.timeline li', (lis) => lis.map((li) => li.getAttribute('data-action')).reverse());
    expect(actions).toEqual(['raise', 'acknowledge', 'assign', 'start', 'resolve', 'quality-check', 'verify', 'close', 'reopen']);
    // A reopened ticket is back on the board, in its column.
    await go('#/work-orders', `.column[data-state="reopened"] .wo-card[data-ticket="${fireTicket}"]`);
    await switchUser('demo-engineer');
  });

  it('shows a building: tanks, fire panel zones, doors, buttons, meters, and a trend chart', async () => {
    await go('#/building/T1', '.building-view .tank-card');
    await page.waitForSelector('.trend[data-state="drawn"]');
    expect(await page.$$eval('.fire-card .zone', (zs) => zs.map((z) => (z as HTMLElement).dataset.zone))).toEqual(['T1-3F-east']);
    expect(await page.$$eval('.meter-table tbody tr', (rows) => rows.length)).toBe(24);
    await page.click('.trend-ranges [data-range="24h"]');
    await page.waitForSelector('.trend[data-state="drawn"] .trend-ranges [data-range="24h"].active');
    await page.click('.trend-ranges [data-range="1h"]');
    await page.waitForSelector('.trend[data-state="drawn"] .trend-ranges [data-range="1h"].active');
    expect(Number(await page.getAttribute('.trend', 'data-points'))).toBeGreaterThan(0);
    await shot('building-zh');
  });

  it('switches language, remembered for the user, with no label of the other language on any screen', async () => {
    const screens: [string, string][] = [
      ['#/wall', '.tile'],
      ['#/alarms', '.alarm-table'],
      ['#/work-orders', '.kpi-strip'],
      [`#/work-orders/${fireTicket}`, '.timeline li'],
      ['#/building/T1', '.trend[data-state="drawn"]'],
    ];
    for (const language of ['en', 'zh-CN'] as const) {
      await page.click(`.top [data-language="${language}"]`);
      await page.waitForFunction((l) => document.documentElement.lang === l, language);
      for (const [hash, ready] of screens) {
        await go(hash, ready);
        expect({ language, hash, foreign: await foreignLabels(page, language) }).toEqual({ language, hash, foreign: [] });
      }
      await go('#/wall', '.tile');
      await shot(`wall-${language === 'en' ? 'en' : 'zh'}`);
      if (language === 'en') {
        await go('#/building/T1', '.trend[data-state="drawn"]');
        await shot('building-en');
        await go('#/work-orders', '.kpi-strip');
        await shot('work-orders-en');
      }
    }
    await page.click('.top [data-language="en"]');
    await page.reload();
    await page.waitForSelector('.tile');
    expect(await page.evaluate(() => [document.documentElement.lang, localStorage.getItem('fm.language.demo-engineer')])).toEqual(['en', 'en']);
  });

  it('a complaint on the service desk\'s screen: its type and reply deadline, the reply, the callback after the check (owner not at home, then reached), the monthly statistics', async () => {
    // One login per user: logins are limited per username and minute.
    const tokens = new Map<string, string>();
    const as = async (username: string): Promise<string> => {
      if (!tokens.has(username)) {
        const res = await fetch(`${stack.server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: 'demo-password' }) });
        tokens.set(username, ((await res.json()) as { token: string }).token);
      }
      return tokens.get(username)!;
    };
    const call = async (username: string, path: string, body: unknown) => {
      const res = await fetch(`${stack.server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await as(username)}` }, body: JSON.stringify(body) });
      expect(res.status, `${path}: ${await res.clone().text()}`).toBeLessThan(300);
      return res.json();
    };
    const complaint = await call('demo-desk', '/api/tickets', { source: 'complaint', complaintType: 'help', title: 'Cannot open the parcel locker', building: 'T1', unit: 'T1-0101', reporter: 'Ms Wu' });

    await switchUser('demo-desk');
    await page.click('.top [data-language="zh-CN"]');
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    await go('#/work-orders', `.column[data-state="open"] .wo-card[data-ticket="${complaint.id}"]`);
    const cardText = await page.textContent(`.wo-card[data-ticket="${complaint.id}"]`);
    expect(cardText).toContain(LABELS['zh-CN']['complaintType.help']);
    expect(cardText).toMatch(/前回复/);
    await page.click(`.wo-card[data-ticket="${complaint.id}"]`);
    await page.waitForSelector(`.detail-view[data-ticket="${complaint.id}"] [data-fact="complaint-type"]`);
    // The desk replies but does not repair.
    expect(await page.$$eval('.wo-actions button', (bs) => bs.map((b) => b.getAttribute('data-action')))).toEqual(['reply', 'escalate']);
    await act('reply', 'open');
    expect(await page.textContent('[data-fact="replied"]')).not.toBe('—');

    for (const action of ['acknowledge', 'start', 'resolve']) await call('demo-engineer', `/api/tickets/${complaint.id}/${action}`, {});
    await call('demo-eng-supervisor', `/api/tickets/${complaint.id}/quality-check`, { result: 'pass' });
    await page.waitForSelector(`.detail-view[data-ticket="${complaint.id}"] [data-ticket-state="quality_checked"]`);
    await act('callback', 'quality_checked', () => page.selectOption('.dialog select[name=outcome]', 'not-home'));
    await page.waitForFunction(() => document.querySelector('.facts')?.textContent?.includes('1 次'));
    await page.click('.wo-actions [data-action="callback"]');
    await page.selectOption('.dialog select[name=outcome]', 'satisfied');
    await page.selectOption('.dialog select[name=satisfaction]', 'basically-satisfied');
    await page.selectOption('.dialog select[name=method]', 'visit');
    await page.click('.dialog [data-action="confirm"]');
    await page.waitForSelector(`.detail-view [data-ticket-state="callback_done"]`);
    expect(await page.textContent('[data-fact="satisfaction"]')).toBe(LABELS['zh-CN']['satisfaction.basically-satisfied']);
    await act('close', 'closed');
    expect(await foreignLabels(page, 'zh-CN')).toEqual([]);
    await shot('work-order-complaint-zh');

    await go('#/work-orders', '.kpi-strip [data-kpi="reply"]');
    const [report] = await Promise.all([browser.context.waitForEvent('page'), page.click('[data-action="monthly-report"]')]);
    await report.waitForSelector('h1');
    expect(await report.textContent('h1')).toBe('月度维修服务统计');
    expect(await report.textContent('body')).toContain('投诉回复');
    await report.close();
    await switchUser('demo-engineer');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
  });

  it('recovers by itself when the server is killed and restarted: says it is disconnected, then resynchronises', async () => {
    await go('#/wall', '.tile');
    const before = await readTrace(page);
    const snapshots = before.entries.filter((e) => e.type === 'snapshot').length;
    await stack.server.kill();
    await page.waitForSelector('.connection[data-connection="disconnected"]', { timeout: 20_000 });
    expect(await page.evaluate(() => document.body.classList.contains('is-disconnected'))).toBe(true);
    await page.waitForFunction(() => /old|前/.test(document.querySelector('.connection')?.textContent ?? ''));
    await shot('disconnected-en');
    await stack.server.start();
    await page.waitForSelector('.connection[data-connection="live"]', { timeout: 30_000 });
    await waitFor(async () => (await readTrace(page)).entries.filter((e) => e.type === 'snapshot').length > snapshots, 20_000, 'a fresh snapshot after the restart');
    const after = await readTrace(page);
    const disconnect = after.entries.findLast((e) => e.type === 'disconnect')!;
    const resync = after.entries.findLast((e) => e.type === 'snapshot')!;
    expect(resync.at).toBeGreaterThan(disconnect.at);
    expect(await page.$$eval('.tile', (ts) => ts.length)).toBe(3);
    // Still logged in: the session outlived the server process.
    expect(await page.$('.login')).toBeNull();
    expect(errors).toEqual([]);
  });

  it('returns to the login when the session ends', async () => {
    const t = await token(page);
    await fetch(`${stack.server.url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${t}` } });
    await page.waitForSelector('.login .login-error:text("You logged out")');
    expect(await page.evaluate(() => localStorage.getItem('fm.session'))).toBeNull();
    expect(await foreignLabels(page, 'en')).toEqual([]);
    await page.click('.login [data-language="zh-CN"]');
    await page.waitForSelector('.login h2:text("值班室登录")');
    expect(await foreignLabels(page, 'zh-CN')).toEqual([]);
  });
});

async function token(page: Page): Promise<string> {
  return page.evaluate(() => (JSON.parse(localStorage.getItem('fm.session') ?? '{}') as { token: string }).token);
}
