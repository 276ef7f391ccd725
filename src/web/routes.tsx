import type { ComponentType } from 'react';
import type { Role } from './session.ts';
import { HomePage } from './pages/home-page.tsx';

// The app's pages. To add one:
//   1. write `src/web/pages/<name>-page.tsx` exporting a component that takes PageProps and
//      starts with <PageTitle> (it sets the document title and takes the focus on navigation);
//   2. add one line below: its path (":param" segments arrive in props.params), title, the roles
//      that see it (in the navigation, and allowed to open it: 'any' for every signed-in user),
//      and `nav: false` to keep it out of the navigation (detail pages).
// The order here is the navigation's order. Pages fetch through `api` (src/web/api.ts), which
// adds the CSRF header and turns {error:{code,message}} into an ApiError to show with
// <ErrorNote>. The server checks every rule again: roles here only decide what is offered.
export interface PageProps {
  params: Record<string, string>;
  query: URLSearchParams;
}

export interface PageRoute {
  path: string;
  title: string;
  roles: readonly Role[] | 'any';
  nav?: boolean;
  page: ComponentType<PageProps>;
}

export const ROUTES: PageRoute[] = [
  { path: '/', title: 'Start', roles: 'any', page: HomePage },
];
