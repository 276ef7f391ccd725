import { useEffect, useRef } from 'react';
import type { ReactNode } from 'react';

// A page's <h1>: sets the document title and moves the focus to the heading when the page
// opens, so keyboard and screen-reader users start at the new page's top.
export function PageTitle({ children, title }: { children: ReactNode; title?: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  const text = title ?? (typeof children === 'string' ? children : '');
  useEffect(() => {
    document.title = text ? `${text} · Sealbox` : 'Sealbox';
    ref.current?.focus({ preventScroll: false });
  }, [text]);
  return <h1 ref={ref} tabIndex={-1}>{children}</h1>;
}
