-- Complaints that arrive at the weekend or on a team holiday are escalated:
-- urgent priority and a tag, so the first person on shift sees them at the
-- top of the approval queue. The answer is only drafted: complaints are
-- high-risk and replyd never sends those on its own.

rule {
  name = "weekend-complaint-escalation",
  priority = 92, -- before the default high-risk rule (90)
  on_message = function(msg, ctx)
    if msg.intent ~= "complaint_feedback" then
      return nil
    end
    local team = ctx.team -- the team's clock: wday 1 = Monday .. 7 = Sunday
    local weekend = team.wday >= 6
    if not weekend and ctx.holiday == nil then
      return nil -- on a working day the default rules handle it
    end
    ctx.log(("complaint on %s at %s %s (%s)"):format(msg.marketplace, team.date, team.time,
      ctx.holiday or "weekend"))
    return {
      replies = { { template = "answer_complaint_feedback", action = "approve" } },
      priority = "urgent",
      tags = { "complaint", ctx.holiday and "holiday" or "weekend" },
    }
  end,
}
