import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { AccessDecision } from '../access/access-decision.ts';
import { Audit } from '../access/audit.ts';
import { ContentAccess } from '../access/content-access.ts';
import { Credentials } from '../access/credentials.ts';
import { FourEyes } from '../access/four-eyes.ts';
import { Grants } from '../access/grants.ts';
import type { MailboxStore } from '../access/mailbox-store.ts';
import { People } from '../access/people.ts';
import type { PersonLinkStore } from '../access/person-link-store.ts';
import { Policy } from '../access/policy.ts';
import type { PolicyInForce } from '../access/policy.ts';
import { ExtractorPool } from '../index/extract/extractor-pool.ts';
import type { OpenIndex } from '../index/open-index.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { Stores } from '../store/open-stores.ts';

export type ContentServices = Awaited<ReturnType<typeof contentServices>>;

// People and their sign-in, for the API and for the console commands that need nothing else.
export function peopleOf(stores: Stores, clock: Clock, policy: PolicyInForce): People {
  return new People({
    store: stores.repos.people, credentials: stores.repos.credentials, recoveries: stores.repos.recoveries,
    mailboxes: stores.repos.mailboxes, keys: stores.keys, clock, policy, db: stores.meta,
  });
}

// What reading content as a person needs: the token or session, the access decision, the read
// and its ledger entry. The first part of the governed-access stage (./services.ts builds the
// rest on it); alone, for the console commands that only read (search, show, export), which then
// never load the rest's modules.
export async function contentServices(config: Config, stores: Stores, ledger: Ledger, index: OpenIndex, clock: Clock, log: Logger) {
  // Read where it decides, in the deciding transaction: a change any process commits applies at once.
  const policy = new Policy({ settings: stores.meta, db: stores.meta, base: config.access, clock });
  // Read once here, so that overrides the config file no longer allows stop the opening.
  await stores.meta.read((tx) => policy.inForce(tx));
  const current: PolicyInForce = (tx) => policy.inForce(tx);
  const people = peopleOf(stores, clock, current);
  const mailboxes: MailboxStore = stores.repos.mailboxes;
  const links: PersonLinkStore = stores.repos.links;
  const fourEyes = new FourEyes(links, people, clock, current);
  const grants = new Grants(stores.repos.grants, clock, current, fourEyes);
  const audit = new Audit(stores.meta, ledger);
  const decision = new AccessDecision(grants, people, clock);
  const search = index.search;
  const credentials = new Credentials(stores.repos.credentials, people, clock, async (tx) => (await current(tx)).sessionHours);
  // Its processes start when an attachment's text is first shown, and idle ones keep nothing running.
  const ocr = config.index.ocr ? config.index.ocrLanguages : null;
  const extractor = new ExtractorPool({ log: log.child({ component: 'extractor' }), ocr });
  const content = new ContentAccess({ decision, audit, search, reader: stores.reader, meta: stores.meta, people, extract: (file) => extractor.extract(file), ocr: ocr !== null });
  return { config, stores, db: stores.meta, ledger, clock, policy, people, mailboxes, links, fourEyes, grants, audit, decision, search, credentials, content };
}
