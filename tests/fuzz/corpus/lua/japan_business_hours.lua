-- amazon.co.jp: a polite acknowledgement in Japanese, but only in Japanese
-- business hours (Monday to Friday, 9:00 to 18:00 on the buyer's clock) and
-- only while our own team is closed — when it is open, the team answers
-- itself. At night in Japan nothing is sent automatically: the answer is
-- drafted and leaves when someone approves it. This replaces the default
-- after-hours acknowledgement (priority 70) for Japanese buyers.

local function japanese_business_hours(clock)
  return clock.wday <= 5 and clock.hour >= 9 and clock.hour < 18
end

rule {
  name = "japan-business-hours-ack",
  priority = 75,
  on_message = function(msg, ctx)
    if msg.marketplace ~= "amazon.co.jp" or msg.language ~= "ja" then
      return nil
    end
    if msg.high_risk or ctx.open or msg.intent == "thanks" then
      return nil -- the default rules decide these
    end
    if japanese_business_hours(ctx.buyer) and ctx.has_template("ack_overnight", "ja") then
      return {
        replies = {
          { template = "ack_overnight", action = "auto_send" },
          { template = "answer_{intent}" }, -- action defaults to "approve"
        },
        tags = { "japan_business_hours" },
      }
    end
    return {
      replies = { { template = "answer_{intent}" } },
      tags = { "japan_quiet_hours" },
    }
  end,
}
