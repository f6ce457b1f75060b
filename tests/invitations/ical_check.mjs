// Reads an iCalendar file on stdin with Mozilla's ical.js (the parser Thunderbird uses) and prints
// JSON of what it understood: the method, and for each event its UID, SEQUENCE, STATUS, the UTC
// start and end it computes from the file's own VTIMEZONE, the time zone it used, and the people.
// Used by tests/invitations/test_ics_interop.py; run with `node ical_check.mjs < invite.ics`.
import ICAL from "ical.js";

const chunks = [];
for await (const chunk of process.stdin) {
  chunks.push(chunk);
}
const text = Buffer.concat(chunks).toString("utf8");
const calendar = new ICAL.Component(ICAL.parse(text));

function utc(time) {
  return new Date(time.toUnixTime() * 1000).toISOString();
}

function person(property) {
  return {
    address: property.getFirstValue(),
    cn: property.getParameter("cn") ?? null,
    role: property.getParameter("role") ?? null,
    partstat: property.getParameter("partstat") ?? null,
    rsvp: property.getParameter("rsvp") ?? null,
  };
}

const events = calendar.getAllSubcomponents("vevent").map((component) => {
  const event = new ICAL.Event(component);
  const organizer = component.getFirstProperty("organizer");
  return {
    uid: event.uid,
    sequence: event.sequence,
    status: component.getFirstPropertyValue("status"),
    summary: event.summary,
    location: event.location,
    description: event.description,
    url: component.getFirstPropertyValue("url"),
    start_utc: utc(event.startDate),
    end_utc: utc(event.endDate),
    start_zone: event.startDate.zone ? event.startDate.zone.tzid : null,
    end_zone: event.endDate.zone ? event.endDate.zone.tzid : null,
    organizer: organizer ? person(organizer) : null,
    attendees: component.getAllProperties("attendee").map(person),
  };
});

process.stdout.write(
  JSON.stringify({
    prodid: calendar.getFirstPropertyValue("prodid"),
    version: calendar.getFirstPropertyValue("version"),
    method: calendar.getFirstPropertyValue("method"),
    timezones: calendar.getAllSubcomponents("vtimezone").map((zone) => zone.getFirstPropertyValue("tzid")),
    events,
  }),
);
