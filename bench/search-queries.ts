// The fixed 50 queries of the search benchmark, each written in both languages for the same
// question. Chosen from the real corpus (2002 mailing lists and spam): a Sealbox query and
// its notmuch twin should find the same messages, except where the two define a word, an
// address or an attachment differently (see the README's "Performance" section).
//
// Date twins: Sealbox's after:D excludes D itself and before:D excludes D; notmuch's
// date:A..B includes both ends (its dates are read in UTC here, NotmuchDb sets TZ).

export interface QueryPair {
  shape: 'rare word' | 'common word' | 'phrase' | 'from' | 'to' | 'subject' | 'date range' | 'attachment' | 'combination';
  sealbox: string;
  notmuch: string;
}

const same = (shape: QueryPair['shape'], q: string): QueryPair => ({ shape, sealbox: q, notmuch: q });

export const SEARCH_QUERIES: QueryPair[] = [
  same('rare word', 'hettinga'),
  same('rare word', 'zzzzteana'),
  same('rare word', 'nigeria'),
  same('rare word', 'gpg'),
  same('rare word', 'mortgage'),
  same('rare word', 'python'),
  same('rare word', 'exmh'),
  same('rare word', 'bush'),
  same('common word', 'the'),
  same('common word', 'linux'),
  same('common word', 'money'),
  same('common word', 'unsubscribe'),
  same('common word', 'sourceforge'),
  same('common word', 'spamassassin'),
  same('phrase', '"free software"'),
  same('phrase', '"click here"'),
  same('phrase', '"remove you"'),
  same('phrase', '"dear friend"'),
  same('phrase', '"mailing list"'),
  same('phrase', '"credit card"'),
  same('from', 'from:rssfeeds@spamassassin.taint.org'),
  same('from', 'from:rah@shipwright.com'),
  same('from', 'from:garym@canada.com'),
  same('from', 'from:tim.one@comcast.net'),
  same('from', 'from:yahoo.com'),
  same('from', 'from:hotmail.com'),
  same('from', 'from:hettinga'),
  // notmuch's to: covers To and Cc; Sealbox keeps the roles apart.
  { shape: 'to', sealbox: 'to:ilug@linux.ie OR cc:ilug@linux.ie', notmuch: 'to:ilug@linux.ie' },
  { shape: 'to', sealbox: 'to:exmh-workers@redhat.com OR cc:exmh-workers@redhat.com', notmuch: 'to:exmh-workers@redhat.com' },
  { shape: 'to', sealbox: 'to:fork@spamassassin.taint.org OR cc:fork@spamassassin.taint.org', notmuch: 'to:fork@spamassassin.taint.org' },
  same('subject', 'subject:perl'),
  same('subject', 'subject:viagra'),
  same('subject', 'subject:linux'),
  same('subject', 'subject:razor'),
  { shape: 'date range', sealbox: 'after:2002-07-31 before:2002-09-01', notmuch: 'date:2002-08-01..2002-08-31' },
  { shape: 'date range', sealbox: 'after:2001-12-31 before:2002-07-01', notmuch: 'date:2002-01-01..2002-06-30' },
  { shape: 'date range', sealbox: 'on:2002-09-05', notmuch: 'date:2002-09-05..2002-09-05' },
  { shape: 'date range', sealbox: 'before:2002-01-01', notmuch: 'date:..2001-12-31' },
  { shape: 'date range', sealbox: 'after:2002-11-30', notmuch: 'date:2002-12-01..' },
  { shape: 'attachment', sealbox: 'has:attachment', notmuch: 'tag:attachment' },
  { shape: 'attachment', sealbox: 'has:attachment AND money', notmuch: 'tag:attachment AND money' },
  same('combination', 'linux AND kernel'),
  { shape: 'combination', sealbox: '"click here" AND NOT unsubscribe', notmuch: '"click here" AND NOT unsubscribe' },
  same('combination', '(kernel OR gcc) AND debian'),
  same('combination', 'from:rssfeeds@spamassassin.taint.org AND bush'),
  { shape: 'combination', sealbox: 'exmh after:2002-08-31 before:2002-10-01', notmuch: 'exmh AND date:2002-09-01..2002-09-30' },
  same('combination', 'python AND NOT perl'),
  same('combination', 'money OR mortgage'),
  same('combination', 'subject:perl AND from:pudge@perl.org'),
  { shape: 'combination', sealbox: '(to:ilug@linux.ie OR cc:ilug@linux.ie) AND "free software"', notmuch: 'to:ilug@linux.ie AND "free software"' },
];
