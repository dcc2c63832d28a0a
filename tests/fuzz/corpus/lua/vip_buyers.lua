-- VIP buyers: every message from a buyer on the list is tagged "vip" and gets
-- high priority; the other rules still decide the replies (continue = true).
--
-- Marketplaces hide the buyer's address behind a relay alias that stays the
-- same for one buyer, so the list holds those aliases (lower case). The
-- aliases are configuration, not log text: never pass msg.from to ctx.log.

local VIP = {
  ["7x2kq9m4v8wz1b5@marketplace.amazon.de"] = true,
  ["c3n8p0r6t2hs4d9@marketplace.amazon.fr"] = true,
  ["q5j1f7y3l9ge6a0@marketplace.amazon.co.jp"] = true,
}

rule {
  name = "vip-buyers",
  priority = 95, -- before the default rules, which still run after it
  on_message = function(msg, ctx)
    local from = msg.from
    if from == nil or not VIP[from:lower()] then
      return nil -- not a VIP: no match
    end
    local tags = { "vip" }
    if not msg.first_message then
      tags[#tags + 1] = "vip_follow_up" -- the buyer is writing again in a thread
    end
    return { tags = tags, priority = "high", continue = true }
  end,
}
