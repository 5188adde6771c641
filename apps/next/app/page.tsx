import { flows } from "@repo/contracts/flows";
import { FlowList } from "@/components/flow-page";

export default function Home() {
  return (
    <main>
      <h1>Flows</h1>
      <p className="summary">
        Each flow sends an event; Inngest runs the functions it triggers through this app&apos;s{" "}
        <code>/api/inngest</code> endpoint, and the page follows the runs and the rows they write.
      </p>
      <FlowList flows={flows} />
    </main>
  );
}
