// Whether a caller's `From` is a number callq can call back.
#pragma once

#include <string>

namespace callq {

/// True when `from` is an E.164 telephone number ("+" then 7 to 15 digits,
/// the first not 0) that is not one of the placeholders Twilio puts in
/// `From` for a withheld caller ID (+266696687 "ANONYMOUS", +7378742833
/// "RESTRICTED", +8656696 "UNKNOWN", +86282452253 "UNAVAILABLE",
/// +2562533 "BLOCKED"). False for everything else: the words Twilio and
/// carriers use for a withheld number ("anonymous", "restricted", ...), a
/// Voice SDK client (`client:alice`), a SIP address (`sip:bob@host`), an
/// empty value. The one home of this rule: a caller for whom it is false is
/// never offered a callback (and callbacks booked through the admin API,
/// when they come, are to use it too).
bool is_dialable_number(const std::string& from);

}  // namespace callq
