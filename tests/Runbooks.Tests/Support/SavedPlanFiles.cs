using Runbooks.Engine;
using Runbooks.Journal;

namespace Runbooks.Tests.Support;

/// <summary>A saved plan file and the journal of its run, compared as the harness compares each converge stage.</summary>
internal static class SavedPlanFiles
{
    public static PlanConformance Conformance(string plan, string journal) =>
        PlanConformance.Of(SavedPlan.Load(plan), Path.GetFullPath(plan), JournalReader.Read(journal));
}
