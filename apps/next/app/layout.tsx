import "@repo/ui/styles.css";
import type { Metadata } from "next";
import type { ReactNode } from "react";

export const metadata: Metadata = {
  title: { default: "Inngest flows · Next.js", template: "%s · Inngest flows · Next.js" },
  description: "Durable Inngest functions served by Next.js through inngest/next.",
  // No icon to serve: an empty one spares every page a 404 for /favicon.ico.
  icons: { icon: "data:," },
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="site-header">
          <a className="brand" href="/">
            Inngest flows
          </a>
          <span>Next.js · inngest/next</span>
        </header>
        {children}
        <footer className="site-footer">
          <span>The same functions, pages and tests in Next.js, Astro and Remix.</span>
        </footer>
      </body>
    </html>
  );
}
