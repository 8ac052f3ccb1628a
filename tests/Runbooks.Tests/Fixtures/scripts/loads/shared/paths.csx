var DemoRoot = "/tmp/rb-loaded-" + Environment.ProcessId;
