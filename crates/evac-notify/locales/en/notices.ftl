# Notices to requesters. Short: an SMS in Cyrillic holds 70 characters a segment. Variables
# are filled by evac; keep every one in each language.
ack = evac: your request {$reference} is registered. Keep this code. Status: {$status_url}
seat = evac {$reference}: seat {$seats} on {$transport} from {$hub}, departs {$departs} local. Be there by {$be_there}. Bring passports. Pass {$pass_code}: {$pass_url}
seat-moved = evac {$reference}: your seat moved to {$transport}, seat {$seats}, from {$hub}, departs {$departs} local ({$why}). New pass {$pass_code}: {$pass_url}
seat-lost = evac {$reference}: your seat on {$transport} is cancelled ({$why}). You stay on the list; we will write again.
reconfirm = evac {$reference}: do you still need to leave? Reply YES or NO.
broadcast = evac: {$text}
reply-status = evac {$reference}: {$status}
reply-withdrawn = evac {$reference}: withdrawn as you asked. Reply YES if you still need to leave.
reply-confirmed = evac {$reference}: thank you, you stay on the list.
reply-unknown = evac: we could not find your request. Send STATUS and your code, e.g. STATUS K7Q-4F2-9MX.
status-registered = registered, waiting for a seat
status-verified = verified, waiting for a seat
status-assigned = a seat is assigned; the notice follows
status-notified = a seat is assigned; see the notice we sent
status-checked_in = checked in
status-boarded = boarded
status-arrived = arrived
status-merged = registered, waiting for a seat
status-withdrawn = withdrawn
status-unreachable = we could not reach you; please call the hotline
status-ineligible = not eligible for this evacuation; call the hotline
messenger-welcome = evac: to get the messages about your evacuation request in this chat, share your phone number with the button below (the number your request gave).
messenger-linked = evac: this chat now gets the messages about requests that gave your number ({ $requests } now). Send STATUS and your code at any time.
messenger-not-own = evac: please share your own number with the button below; another person's number cannot be linked to this chat.
messenger-share-button = Share my number
reply-ambiguous = evac: this number has several requests ({ $references }). Send your answer with the code, e.g. NO and the code.
