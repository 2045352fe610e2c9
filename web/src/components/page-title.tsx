import { useEffect, type ReactNode } from 'react';

/** The page's h1 and the document title; the app moves focus here on navigation. */
export function PageTitle({ children, title }: { children?: ReactNode; title: string }) {
  useEffect(() => {
    document.title = `${title} – Vägen`;
  }, [title]);
  return <h1 tabIndex={-1}>{children ?? title}</h1>;
}
