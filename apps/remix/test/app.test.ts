import { describeAppSuite } from "@repo/app-testing";

// The same file in every app: the suite reads the app's name and start script from package.json.
describeAppSuite({ appDir: new URL("..", import.meta.url) });
