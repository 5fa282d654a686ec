// Served as /assets/twilio-voice.js when the build did not find Twilio's
// Voice JavaScript SDK (scripts/voice-sdk.sh fetches it): the agent page
// then says the softphone is not part of this build, and the agent takes
// calls on a phone number.
'use strict';
window.callqVoiceSdkMissing = true;
