using Microsoft.VisualStudio.TestTools.UnitTesting;

// Sequential: one test changes the current culture and one measures generator time (2-core machines).
[assembly: DoNotParallelize]
