import { qs } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { PageTitle } from '../page-title.tsx';
import { navigate } from '../router.tsx';
import type { PageProps } from '../routes.tsx';
import { ExportControl } from '../search/export-control.tsx';
import { composeQuery, readSearchState, SearchForm, searchParams, searchWords } from '../search/search-form.tsx';
import type { SearchState } from '../search/search-form.tsx';
import { Pager, ResultList, ResultSummary, useSearch } from '../search/search-results.tsx';
import { useSession } from '../session.ts';

// Owner self-service: browse and search one's own mailboxes (the query language of `sealbox
// search`, filters, newest or oldest first, 50 a page with the total), each result with the
// passage of text that matched, a message opened on a page of its own with its conversation;
// and export what the search finds. Everything is in the address, so Back and reload return to
// the same page of the same results. Each search and export is a ledger entry like any other read.
export function MyMailboxPage({ query }: PageProps) {
  const { me } = useSession();
  const state = readSearchState(query);
  const everything = me.mailboxes.map((m) => `mailbox:"${m}"`).join(' OR ');
  const typed = composeQuery(state);
  const run = typed || everything;
  const results = useSearch(run, { sort: state.sort, page: state.page });
  const go = (next: SearchState) => navigate(`/mailbox${qs(searchParams(next))}`);
  if (me.mailboxes.length === 0) {
    return (
      <>
        <PageTitle>My mailbox</PageTitle>
        <p>No archived mailbox is registered to you. If that is wrong, ask your administrator to set you as its owner in the directory.</p>
      </>
    );
  }
  const list = qs(searchParams(state));
  return (
    <>
      <PageTitle>My mailbox</PageTitle>
      <p className="muted">Your mailboxes: {me.mailboxes.join(', ')}. Your own searches, reads and exports are recorded too, but are not shown to you as accesses by others.</p>
      <SearchForm key={list} state={state} label="Search my mailbox" onSearch={go}
        placeholder='e.g. invoice from:carol@partner.test after:2024-01-01'
        help='Words, "phrases", OR, NOT or -word; from: to: cc: subject: filename: has:attachment before: after: on: (YYYY-MM-DD). Empty shows everything.' />
      {results.loading && <Loading what="results" />}
      <ErrorNote error={results.error} />
      {results.data && (
        <section aria-labelledby="results-h">
          <h2 id="results-h">{typed ? 'Results' : 'All your messages'}</h2>
          <ResultSummary data={results.data} page={state.page} />
          <ResultList data={results.data} page={state.page} words={searchWords(typed)} href={(sha) => `/mailbox/${sha}${list}`} />
          <Pager total={results.data.total} more={results.data.totalIsLowerBound} page={state.page} go={(page) => go({ ...state, page })} />
        </section>
      )}
      {results.data && <ExportControl query={run} total={results.data.total} more={results.data.totalIsLowerBound} />}
    </>
  );
}
