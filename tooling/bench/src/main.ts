import { main } from "./cli";

await main();
