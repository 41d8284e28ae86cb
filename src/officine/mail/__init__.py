"""Is this e-mail a trap? The suspicious e-mail analyser (issue 15): a saved message (.eml or
Outlook .msg) in, a verdict (dangereux, suspect, rien d'anormal) with every reason in French
and what to do next out. Nothing in the message is opened, run or fetched.

Modules: `parse` (bytes to headers, texts, attachments), `sender`, `auth`, `links`,
`attachments` (with `filetypes`, `documents`, `archives`), `wording`: each returns findings;
`analyse` weighs them; `knowledge` loads the words and lists (reasons.yaml, senders.yaml,
indicators.yaml); `settings` keeps the pharmacy's trusted server and known senders."""

# A 50 MB message, the largest most providers carry, with room for its transfer encoding.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
