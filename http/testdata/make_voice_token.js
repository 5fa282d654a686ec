// Makes voice_token.jwt, the fixture of http/voice_token_test.cpp, with
// Twilio's own helper library (npm `twilio`, the version in
// make_voice_token.sh) and the test's inputs; the clock is pinned so the
// token is the same on every run.
'use strict';
const now = 1796000000;  // 2026-11-30T00:40:00Z
Date.now = () => now * 1000;
const AccessToken = require('twilio').jwt.AccessToken;
const token = new AccessToken('AC00000000000000000000000000000001', 'SK00000000000000000000000000000002',
                              'test-secret-for-callq', {identity: 'client-alice', ttl: 3600, nbf: now});
token.addGrant(new AccessToken.VoiceGrant({outgoingApplicationSid: 'AP00000000000000000000000000000003',
                                           incomingAllow: true}));
process.stdout.write(token.toJwt() + '\n');
