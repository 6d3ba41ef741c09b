"""How customers reach the desk beyond the monitor: the phone line (answerphone messages that
open incidents), callback requests from the status page, and NPS surveys after incidents."""
