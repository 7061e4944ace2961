import ArgumentParser
import Split

// Options that name one of a library enumeration's cases are parsed as that enumeration, so a
// typo is refused with the list of valid values instead of silently becoming a default.
extension SelectionLearner: ExpressibleByArgument {}
extension TaskKind: ExpressibleByArgument {}
extension ControlMode: ExpressibleByArgument {}
extension LineCompletionSet.Part: ExpressibleByArgument {}
