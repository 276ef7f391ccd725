// Oversight's old name for the person links, until it takes a PersonLinkStore
// (src/access/person-link-store.ts) like the access stage.
export type { PersonLinkStore as PersonLinks } from '../access/person-link-store.ts';
