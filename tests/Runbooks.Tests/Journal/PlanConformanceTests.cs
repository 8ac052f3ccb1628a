using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Journal;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Journal;

/// <summary>
/// A run's journal compared with its saved plan, as the harness compares every converge stage: a branch runs as itself
/// and one arm, an approved step that already held runs nothing, and anything else is a difference naming the step.
/// </summary>
public class PlanConformanceTests : TempFolderTest
{
    private static readonly Target Target = new("repair", "", [], []);
    private static readonly RunCommand Stop = new(new Command("sv", ["down", "master"]));
    private static readonly RunCommand Kill = new(new Command("sv", ["kill", "master"]));
    private static readonly RunCommand Start = new(new Command("sv", ["up", "master"]));
    private static readonly RunCommand Flush = new(new Command("iptables", ["-F"]));
    private static readonly Branch StopOrKill = new(Check.From("master is running", () => true), [Stop], [Kill]);
    private string _plan = "";
    private string _journal = "";

    [SetUp]
    public void Paths()
    {
        (_plan, _journal) = (Path.Combine(Folder, "plan.json"), Path.Combine(Folder, "run.jsonl"));
    }

    private static SavedPlan Plan(params (string Decision, StepAction[] Actions)[] steps) => new(
        SavedPlan.CurrentSchema, "repair.csx", new string('0', 64), [], steps.Length, new PlanStage(1, null, null, steps.Length, [], 0),
        [new PlannedHost("local", "local", [new PlannedTarget("repair", "planned", null, [],
            [.. steps.Select((s, i) => new PlannedStep(i + 1, $"step {i + 1}", s.Decision, "", null, [], [], [.. s.Actions.Select(a => a.ToJson())], [], null, null))])])]);

    // The journal of a run: each step with the actions it ran and how it ended.
    private void Run(params (StepAction[] Ran, StepOutcome Outcome)[] steps)
    {
        using var writer = new JournalWriter(_journal, new RunMetadata("repair.csx", "", new Dictionary<string, string> { ["local"] = "local" }, [], "test", "0") { SavedPlan = _plan });
        writer.RunStarted(RunMode.Run, [Target]);
        foreach (var (step, index) in steps.Select((s, i) => (s, i)))
        {
            writer.StepStarted(Target, index, new FlagStep($"f{index}"));
            foreach (var action in step.Ran)
            {
                writer.ActionStarted("local", action);
            }

            writer.StepEnded(Target, new StepResult(index, $"step {index + 1}", null, step.Outcome, "", [], [], [], TimeSpan.Zero));
        }
    }

    private PlanConformance Compare(SavedPlan plan) => PlanConformance.Of(plan, _plan, JournalReader.Read(_journal));

    [Test]
    public void A_branch_that_ran_one_arm_and_the_actions_after_it_is_the_plan()
    {
        Run(([StopOrKill, Kill, Start], StepOutcome.Changed));

        var conformance = Compare(Plan(("willChange", [StopOrKill, Start])));

        Assert.That((conformance.Exact, conformance.Steps, conformance.Actions), Is.EqualTo((true, 1, 3)), conformance.ToString());
    }

    [Test]
    public void Both_arms_of_a_branch_or_an_action_the_plan_lacks_is_a_difference_naming_the_step()
    {
        Run(([StopOrKill, Stop, Kill, Start], StepOutcome.Changed), ([Flush], StepOutcome.Changed));

        var conformance = Compare(Plan(("willChange", [StopOrKill, Start]), ("satisfied", [])));

        Assert.That(conformance.Equal, Is.False);
        Assert.That(conformance.Differences, Is.EqualTo(new[]
        {
            "on host local: repair step 1 ('step 1') ran [if master is running: $ sv down master; otherwise: $ sv kill master; $ sv down master; $ sv kill master; $ sv up master], the plan showed [if master is running: $ sv down master; otherwise: $ sv kill master; $ sv up master]",
            "on host local: repair step 2 ran [$ iptables -F], which the plan's stage did not approve",
        }));
    }

    [Test]
    public void An_approved_step_that_already_held_ran_nothing_and_is_named_but_one_that_never_ended_is_a_difference()
    {
        Run(([Flush], StepOutcome.Changed), ([], StepOutcome.Satisfied));

        var held = Compare(Plan(("willChange", [Flush]), ("willChange", [Start])));
        var missing = Compare(Plan(("willChange", [Flush]), ("willChange", [Start]), ("willChange", [Stop])));

        Assert.That((held.Equal, held.Exact), Is.EqualTo((true, false)), held.ToString());
        Assert.That(held.HeldWhenProbedAgain, Is.EqualTo(new[] { "on host local: repair step 2 ('step 2')" }));
        Assert.That(missing.Differences, Is.EqualTo(new[] { "on host local: repair step 3 ('step 3') was approved but never ended in the run" }));
    }

    [Test]
    public void A_journal_without_a_run_of_the_plan_is_a_difference()
    {
        Run(([Flush], StepOutcome.Changed));

        var conformance = PlanConformance.Of(Plan(("willChange", [Flush])), Path.Combine(Folder, "other.json"), JournalReader.Read(_journal));

        Assert.That(conformance.Differences, Is.EqualTo(new[] { $"{_journal} holds no run of the saved plan {Path.Combine(Folder, "other.json")}" }));
    }
}
