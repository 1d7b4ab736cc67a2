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
