"""Follow-ups in the agent's working hours, and the breather."""

# --- follow-ups ----------------------------------------------------------------------------
FOLLOW_UP_DM = "⏰ Time to follow up with *{customer}* (case #{number}, closed {closed})."
FOLLOW_UP_DETAILS = "*What happened:* {summary}\n*What was done:* {done}"
FOLLOW_UP_PLAN = "*Your follow-up plan:* {plan}"
FOLLOW_UP_LINK = "<{url}|Open the case>"
FOLLOW_UP_FALLBACK = "Time to follow up with {customer} (case #{number})"
FOLLOW_UP_NOTHING_DONE = "nothing recorded"
BUTTON_FOLLOWED_UP = "Followed up"
BUTTON_SKIP = "Skip"
SNOOZE_PLACEHOLDER = "Snooze"
SNOOZE_CHOICES = {"hour": "1 hour", "tomorrow": "Tomorrow", "week": "Next week"}
FOLLOWED_UP_TITLE = "Followed up"
FOLLOWED_UP_HOW = "How is the customer now?"
FOLLOWED_UP_OUTCOMES = {
    "happy": "Happy",
    "unhappy": "Still unhappy (reopens the case)",
    "no_answer": "No answer",
}
FOLLOWED_UP_DONE = "✅ Followed up by {user} · {when}: {outcome}"
FOLLOWED_UP_THREAD = "📞 {user} followed up with the customer: {outcome}.{note}"
SNOOZED = "💤 Snoozed until {when}."
SKIPPED = "⏭️ Skipped by {user}."
REMINDER_ALREADY_HANDLED = "This reminder was already handled ({status})."
PLAN_TITLE = "Step 6: follow up"
PLAN_TEXT = "Your follow-up plan"
PLAN_HINT = "What you will check with the customer, and how."
PLAN_FIRST_DATE = "First follow-up on"
PLAN_FIRST_DATE_HINT = "Leave it empty and you'll be reminded {schedule} after the case is closed."
PLAN_FIRST_DATE_HINT_NONE = "Leave it empty and no follow-up reminder is set."
# Words for FOLLOW_UP_SCHEDULE's units (s m h d w), singular and plural.
TIME_UNITS = {
    "s": ("second", "seconds"),
    "m": ("minute", "minutes"),
    "h": ("hour", "hours"),
    "d": ("day", "days"),
    "w": ("week", "weeks"),
}
LIST_AND = " and "
ERR_DATE_PAST = "Pick a day after today."
ERR_DATE_FAR = "Pick a day within the next 120 days."

# --- breather --------------------------------------------------------------------------------
BREATHER_TASKS = (
    "tidy up one help-centre article that confused a customer this week",
    "read through a saved reply and make it sound more human",
    "write a short thank-you to a customer who was kind to us recently",
    "tag and close a few easy tickets in the queue",
    "note down one thing that would have made this case easier, for the team",
    "take a short walk or get a glass of water, then pick an easy ticket",
)
BREATHER_DM_CLOSED = "🌿 That case is closed. Before the next one, step away for a few minutes."
BREATHER_DM_HARD = "🌿 That was a hard one ({why}). You've earned a few minutes away from the queue."
BREATHER_WHY_FURIOUS = "a furious customer"
BREATHER_WHY_LONG = "open for {duration}"
BREATHER_DM_LONG = "🌿 Case #{number} has been open for {duration}. A short breather can help you come back calmer."
BREATHER_TASK = "A calmer task for now: *{task}*."
BUTTON_BREATHER_START = "Start breather ({minutes} min)"
BUTTON_BREATHER_SKIP = "Not now"
BREATHER_STARTED = "🌿 Breather started: back at {until}. Colleagues will see you're taking a moment."
BREATHER_SKIPPED = "👍 No problem. The offer stands whenever you need it."
BREATHER_WELCOME_BACK = "👋 Welcome back! Your breather is over. Take the next case whenever you're ready."
HANDOFF_COLLEAGUE_ON_BREATHER = "\n⏸️ {user} is on a breather until {until}, so they may answer a bit later."
HANDOFF_DM_YOU_ON_BREATHER = "⏸️ You're on a breather until {until}; this can wait until you're back."

FOLLOWED_UP_MOOD = "Their mood now"
FOLLOWED_UP_MOOD_NOTE = " Mood now: {mood}."
