// A headless Chromium (Debian's /usr/bin/chromium) driven by the C++
// browser tests (tests/browser_e2e_test.cpp) through puppeteer-core: one
// JSON command per line on stdin, one JSON answer per line on stdout.
//
//   {"op":"preload","js":S}                  run S in every page before its own
//                                            scripts (evaluateOnNewDocument)
//   {"op":"viewport","width":W,"height":H}   resize the page (a phone: 390 x 844)
//   {"op":"open","url":U}                    load U; {"ok":true}
//   {"op":"wait","js":E,"timeoutMs":N}       until E is truthy in the page;
//                                            {"ok":true,"ms":elapsed} or ok false
//   {"op":"eval","js":E}                     {"ok":true,"value":E's value as JSON}
//   {"op":"screenshot","path":P}             a full-page PNG at P
//   {"op":"log"}                             {"ok":true,"requests":[...],"errors":[...]}
//   {"op":"close"}                           ends the browser and this process
//
// The assertions are the C++ test's; this only relays.
import readline from 'node:readline';
import puppeteer from 'puppeteer-core';

const chromium = process.env.CALLQ_CHROMIUM || '/usr/bin/chromium';
const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
         '--disable-background-networking', '--disable-component-update'],
  defaultViewport: {width: 1600, height: 1000},
});
const page = await browser.newPage();
const requests = [];
const errors = [];
page.on('request', (r) => requests.push(r.url()));
page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
page.on('console', (m) => {
  if (m.type() === 'error') errors.push('console: ' + m.text());
});

function answer(body) {
  process.stdout.write(JSON.stringify(body) + '\n');
}

async function run(cmd) {
  switch (cmd.op) {
    case 'preload':
      await page.evaluateOnNewDocument(cmd.js);
      return {ok: true};
    case 'viewport':
      await page.setViewport({width: cmd.width, height: cmd.height});
      return {ok: true};
    case 'open':
      await page.goto(cmd.url, {waitUntil: 'load', timeout: 15000});
      return {ok: true};
    case 'wait': {
      const t0 = Date.now();
      try {
        await page.waitForFunction(cmd.js, {timeout: cmd.timeoutMs ?? 5000, polling: 20});
        return {ok: true, ms: Date.now() - t0};
      } catch (e) {
        return {ok: false, ms: Date.now() - t0, error: e.message};
      }
    }
    case 'eval':
      return {ok: true, value: await page.evaluate(cmd.js) ?? null};
    case 'screenshot':
      await page.screenshot({path: cmd.path, fullPage: true});
      return {ok: true};
    case 'log':
      return {ok: true, requests, errors};
    case 'close':
      await browser.close();
      answer({ok: true});
      process.exit(0);
    default:
      return {ok: false, error: 'unknown op ' + cmd.op};
  }
}

answer({ok: true, ready: true, version: await browser.version()});
const lines = readline.createInterface({input: process.stdin});
for await (const line of lines) {
  if (!line.trim()) continue;
  try {
    answer(await run(JSON.parse(line)));
  } catch (e) {
    answer({ok: false, error: String(e && e.message || e)});
  }
}
await browser.close();
