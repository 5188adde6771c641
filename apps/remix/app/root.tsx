import type { LinksFunction, MetaFunction } from "@remix-run/node";
import { Links, Meta, Outlet, Scripts, ScrollRestoration } from "@remix-run/react";
import styles from "@repo/ui/styles.css?url";
import type { ReactNode } from "react";

export const links: LinksFunction = () => [
  { rel: "stylesheet", href: styles },
  // No icon to serve: an empty one spares every page a 404 for /favicon.ico.
  { rel: "icon", href: "data:," },
];

export const meta: MetaFunction = () => [
  { title: "Inngest flows · Remix" },
  {
    name: "description",
    content: "Durable Inngest functions served by Remix through inngest/remix.",
  },
];

export function Layout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        <header className="site-header">
          <a className="brand" href="/">
            Inngest flows
          </a>
          <span>Remix · inngest/remix</span>
        </header>
        {children}
        <footer className="site-footer">
          <span>The same functions, pages and tests in Next.js, Astro and Remix.</span>
        </footer>
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  );
}

export default function App() {
  return <Outlet />;
}
