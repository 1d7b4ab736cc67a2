"""The App Home tab."""

# --- App Home ---------------------------------------------------------------------------------
HOME_HEADER = "🧯 Defuse"
HOME_INTRO = "Flag an angry customer with `/angry Customer: what happened`, or the *Handle angry customer* message shortcut."
HOME_MY_CASES = "Your open cases"
HOME_NO_CASES = "No open cases. 🌤️"
HOME_CASE_LINE = "*#{number}* {customer} · {done}/{total} steps · {status} · opened {when}{link}"
HOME_FOLLOW_UPS = "Your follow-ups"
HOME_NO_FOLLOW_UPS = "Nothing to follow up on."
HOME_FOLLOW_UP_LINE = "{icon} Case #{number} {customer}: {state} {when}"
HOME_FOLLOW_UP_STATES = {"pending": "due", "sent": "waiting for you since", "failed": "could not be delivered, was due"}
HOME_TEAM = "Team, last 30 days"
HOME_TEAM_NUMBERS = (
    "*Opened:* {opened}   *Resolved:* {resolved}   *Not resolved:* {unresolved}   *Open now:* {open_now}\n"
    "*Median time to resolve:* {median}"
)
HOME_CAUSES = "*Why customers were angry:* {causes}"
HOME_NO_CAUSES = "*Why customers were angry:* no reviews yet"
HOME_ON_BREATHER = "🌿 You're on a breather until {until}."
CHECKLIST_FAILED = (
    "Case #{number} is posted, but Slack refused its checklist (`{error}`). Press *Post it again* to add it."
)
UPDATE_FAILED = "Your change to case #{number} is saved, but I couldn't update the message in Slack (`{error}`). It will catch up with the next change; press *Post it again* to retry now."

HOME_INSIGHTS = "What works"
HOME_INSIGHTS_WINDOW = "*Last {days} days*"
HOME_INSIGHTS_NONE = "No case closed yet."
HOME_INSIGHTS_RESOLVED = "Resolved {resolved} of {closed} ({rate}) · median {median}"
HOME_INSIGHTS_MOOD = "Mood: {calmer} calmer · {same} same · {worse} worse"
HOME_INSIGHTS_MOOD_UNKNOWN = "Mood: no case closed with a mood yet"
HOME_INSIGHTS_SECOND = "Second contact: {count}, {resolved} of them resolved"
HOME_INSIGHTS_ESCALATED = "Escalations: {count}, {on_time} fixed within the promised time"
HOME_INSIGHTS_REPEAT = "Repeat customers: {count} cases"
HOME_INSIGHTS_SKIPPED = "*Skipped when it ended badly (vs well), last 90 days:* {steps}"
HOME_INSIGHTS_SKIPPED_STEP = "{title} {bad} ({good})"
HOME_INSIGHTS_HELPED = "*What most often helped, last 90 days:* {attempts}"
HOME_INSIGHTS_MINE = "*Your last 30 days:* {closed} closed, {rate} resolved, {mood}"
HOME_INSIGHTS_MINE_MOOD = "{calmer} of {measured} customers calmer"
HOME_INSIGHTS_MINE_NO_MOOD = "no moods recorded"
HOME_AGENTS = "Per agent, last 30 days (only leads see this)"
HOME_AGENT_LINE = "{user}: {closed} closed · {rate} resolved · {mood}"
